import { decodeToken, encodeToken, mergeOffsets, tokenPattern, tokenSchema, ValidationError } from '../src';

describe('consistency token', () => {
  it('round-trips topic and per-partition offsets, partitions in order', () => {
    const offsets: Record<string, string> = {};
    mergeOffsets(offsets, 10, '5');
    mergeOffsets(offsets, 0, '41');
    mergeOffsets(offsets, 0, '40');
    mergeOffsets(offsets, 2, '9007199254740993');
    const token = encodeToken({ topic: 'events', offsets });
    expect(token).toBe('6576656e7473p0o41p2o9007199254740993p10o5');
    expect(token).toMatch(/^[A-Za-z0-9]+$/); // unencoded in a URL or a header
    expect(decodeToken(token)).toEqual({
      topic: 'events',
      offsets: { 0: '41', 2: '9007199254740993', 10: '5' },
    });
  });

  it('has an empty offset list when a write produced no message', () => {
    expect(encodeToken({ topic: 'events', offsets: {} })).toBe('6576656e7473');
    expect(decodeToken('6576656e7473')).toEqual({ topic: 'events', offsets: {} });
  });

  it('keeps the highest offset of a partition named twice', () => {
    expect(decodeToken('6576656e7473p1o9p1o12p1o3').offsets).toEqual({ 1: '12' });
  });

  it.each([
    '',
    'not-a-token',
    'events:0-5',
    '6576656e7473p01o5',
    '6576656e7473p1o05',
    '6576656e7473p1',
    '6576656E7473p1o5',
    '657p1o5',
    '2f2fp1o5', // a topic named "//"
    `6576656e7473p1o${'9'.repeat(20)}`,
    Buffer.from('{"v":1,"t":"e","o":{"x":"1"}}').toString('base64url'),
  ])('rejects %p with a ValidationError naming `after`', (value) => {
    expect(() => decodeToken(value)).toThrow(ValidationError);
  });

  // The schema's pattern and the decoder must accept exactly the same values.
  it.each([
    ['6576656e7473', true],
    ['6576656e7473p0o0', true],
    ['6576656e7473p3o77p0o1041', true],
    [encodeToken({ topic: 'events.v2', offsets: { 1: '2' } }), false],
    [encodeToken({ topic: 'other', offsets: { 1: '2' } }), false],
    ['6576656e7473p1o2p', false],
    ['6576656e7473p007o1', false],
  ] as const)('tokenPattern(events) on %p is %p, as decodeToken with the topic check', (value, valid) => {
    expect(new RegExp(tokenPattern('events')).test(value)).toBe(valid);
    let decoded = false;
    try {
      decoded = decodeToken(value).topic === 'events';
    } catch {}
    expect(decoded).toBe(valid);
  });

  it('names the topic in the pattern and gives an example matching it', () => {
    const pattern = new RegExp(tokenPattern('a.b-c'));
    expect(pattern.test(encodeToken({ topic: 'a.b-c', offsets: { 1: '2' } }))).toBe(true);
    expect(pattern.test(encodeToken({ topic: 'aXb-c', offsets: { 1: '2' } }))).toBe(false);
    const schema = tokenSchema('a.b-c', 'Token');
    expect(pattern.test(schema.examples?.[0] as string)).toBe(true);
  });
});
