import { decodeToken, encodeToken, mergeOffsets, tokenPattern, tokenSchema, ValidationError } from '../src';

describe('consistency token', () => {
  it('round-trips topic and per-partition offsets, partitions in order', () => {
    const offsets: Record<string, string> = {};
    mergeOffsets(offsets, 10, '5');
    mergeOffsets(offsets, 0, '41');
    mergeOffsets(offsets, 0, '40');
    mergeOffsets(offsets, 2, '9007199254740993');
    const token = encodeToken({ topic: 'events', offsets });
    expect(token).toBe('events:0-41,2-9007199254740993,10-5');
    expect(decodeToken(token)).toEqual({
      topic: 'events',
      offsets: { 0: '41', 2: '9007199254740993', 10: '5' },
    });
  });

  it('has an empty offset list when a write produced no message', () => {
    expect(encodeToken({ topic: 'events', offsets: {} })).toBe('events:');
    expect(decodeToken('events:')).toEqual({ topic: 'events', offsets: {} });
  });

  it('keeps the highest offset of a partition named twice', () => {
    expect(decodeToken('events:1-9,1-12,1-3').offsets).toEqual({ 1: '12' });
  });

  it.each([
    '',
    'not-a-token',
    'events',
    'events:01-5',
    'events:1-05',
    'events:1-5,',
    'events:-1-5',
    'eve nts:1-5',
    `events:1-${'9'.repeat(20)}`,
    Buffer.from('{"v":1,"t":"e","o":{"x":"1"}}').toString('base64url'),
  ])('rejects %p with a ValidationError naming `after`', (value) => {
    expect(() => decodeToken(value)).toThrow(ValidationError);
  });

  // The schema's pattern and the decoder must accept exactly the same values.
  it.each([
    ['events:', true],
    ['events:0-0', true],
    ['events:3-77,0-1041', true],
    ['events.v2:1-2', false],
    ['other:1-2', false],
    ['events:1-2,', false],
    ['events:007-1', false],
  ] as const)('tokenPattern(events) on %p is %p, as decodeToken with the topic check', (value, valid) => {
    expect(new RegExp(tokenPattern('events')).test(value)).toBe(valid);
    let decoded = false;
    try {
      decoded = decodeToken(value).topic === 'events';
    } catch {}
    expect(decoded).toBe(valid);
  });

  it('escapes the topic in the pattern and gives an example matching it', () => {
    const pattern = new RegExp(tokenPattern('a.b-c'));
    expect(pattern.test('a.b-c:1-2')).toBe(true);
    expect(pattern.test('aXb-c:1-2')).toBe(false);
    const schema = tokenSchema('a.b-c', 'Token');
    expect(pattern.test(schema.examples?.[0] as string)).toBe(true);
  });
});
