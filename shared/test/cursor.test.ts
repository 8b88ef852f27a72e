import {
  CURSOR_MAX_LENGTH,
  CURSOR_PATTERN,
  cursorSchema,
  decodeCursor,
  encodeCursor,
  ValidationError,
} from '../src';

describe('keyset cursor', () => {
  it.each([
    { time: new Date('2026-01-01T00:00:00.123Z'), id: '["t","/s","1"]' },
    { time: new Date('0001-01-01T00:00:00Z'), id: 'events/3/1041' },
    { time: new Date(0), id: '' },
    { time: new Date('2026-01-01T00:00:00Z'), id: 'ünïcödé ✓ 𝄞' },
  ])('round-trips %p through a value its pattern accepts', (position) => {
    const cursor = encodeCursor(position);
    expect(new RegExp(CURSOR_PATTERN).test(cursor)).toBe(true);
    expect(decodeCursor(cursor, 'querystring.cursor')).toEqual(position);
  });

  // Every value the pattern accepts decodes: the document says exactly what is accepted.
  it.each([
    'c1.0.',
    'c1.-0.A',
    'c1.999999999999999.x',
    'c1.-999999999999999.____',
    'c1.1.A',
  ])('accepts %p', (value) => {
    expect(new RegExp(CURSOR_PATTERN).test(value)).toBe(true);
    expect(Number.isNaN(decodeCursor(value, '/cursor').time.getTime())).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['no dot', 'abc'],
    ['no version (the form before c1)', '0.x'],
    ['another version', 'c2.0.x'],
    ['a leading zero', 'c1.01.x'],
    ['no id part', 'c1.1'],
    ['base64 padding', 'c1.1.a='],
    ['a space', 'c1.1.a b'],
    ['an exponent', 'c1.1e3.x'],
    ['a plus sign', 'c1.+1.x'],
    ['16 digits (past the date range)', 'c1.8640000000000001.x'],
    ['an operator', '{"$gt":0}'],
    ['over the length limit', `c1.1.${'A'.repeat(CURSOR_MAX_LENGTH)}`],
  ])('refuses a value with %s with a 400 naming the field', (_what, value) => {
    expect(() => decodeCursor(value, '/cursor')).toThrow(ValidationError);
    try {
      decodeCursor(value, '/cursor');
    } catch (error) {
      expect((error as ValidationError).errors?.[0]?.field).toBe('/cursor');
    }
  });

  it('documents an example the pattern accepts', () => {
    const schema = cursorSchema('Next page');
    expect(new RegExp(schema.pattern as string).test(schema.examples?.[0] as string)).toBe(true);
  });
});
