import { decodeToken, encodeToken, mergeOffsets, ValidationError } from '../src';

describe('consistency token', () => {
  it('round-trips topic and per-partition offsets', () => {
    const offsets: Record<string, string> = {};
    mergeOffsets(offsets, 0, '41');
    mergeOffsets(offsets, 0, '40');
    mergeOffsets(offsets, 2, '9007199254740993');
    const token = encodeToken({ topic: 'events', offsets });
    expect(decodeToken(token)).toEqual({ topic: 'events', offsets: { 0: '41', 2: '9007199254740993' } });
  });

  it.each([
    '',
    'not-a-token',
    Buffer.from('{"v":1,"t":"e","o":{"x":"1"}}').toString('base64url'),
  ])('rejects %p with a ValidationError naming `after`', (value) => {
    expect(() => decodeToken(value)).toThrow(ValidationError);
  });
});
