import { GroupMembership } from '../../src/domain/group-membership';

describe('group membership', () => {
  it('owns the last join’s partitions while heartbeats keep it a member, none after leaving', () => {
    let now = 1_000;
    const membership = new GroupMembership(30_000, () => now);
    expect([...membership.owned('events')]).toEqual([]);

    membership.joined({ events: [0, 2], other: [1] });
    expect([...membership.owned('events')]).toEqual([0, 2]);
    expect([...membership.owned('unknown')]).toEqual([]);

    now += 29_000;
    membership.heartbeat();
    now += 29_000;
    expect([...membership.owned('events')]).toEqual([0, 2]);

    membership.left();
    expect([...membership.owned('events')]).toEqual([]);
  });

  it('owns nothing once no heartbeat passed within the session timeout, until it joins again', () => {
    let now = 0;
    const membership = new GroupMembership(30_000, () => now);
    membership.joined({ events: [1] });
    now = 30_000;
    expect([...membership.owned('events')]).toEqual([]);
    membership.joined({ events: [3] });
    expect([...membership.owned('events')]).toEqual([3]);
  });
});
