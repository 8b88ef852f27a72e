import { RecentIds } from '../../src/domain/recent-ids';

describe('RecentIds', () => {
  it('keeps the most recently stored identities up to its capacity', () => {
    const recent = new RecentIds(2);
    recent.add('a');
    recent.add('b');
    recent.add('a'); // refreshed: b is now the oldest
    recent.add('c');
    expect(['a', 'b', 'c'].map((id) => recent.has(id))).toEqual([true, false, true]);
    expect(recent.size).toBe(2);
  });

  it('remembers nothing with a capacity of 0', () => {
    const recent = new RecentIds(0);
    recent.add('a');
    expect(recent.has('a')).toBe(false);
  });
});
