import {
  ATTRIBUTE_STRING_PATTERN,
  CloudEventSchema,
  cloudEventContentErrors,
  cloudEventErrors,
  DATA_LIMITS,
  RFC3339_PATTERN,
} from '../src/event';
import { parseRfc3339 } from '../src/time';

const valid = { specversion: '1.0', id: 'e-1', source: '/shop', type: 'order.created' };

describe('cloudEventErrors', () => {
  it('accepts a minimal event and extension attributes with scalar values', () => {
    expect(cloudEventErrors(valid)).toEqual([]);
    expect(
      cloudEventErrors({ ...valid, traceparent: 'x', partitionkey: 3, sampled: true, none: null }),
    ).toEqual([]);
    expect(cloudEventErrors(CloudEventSchema.examples?.[0])).toEqual([]);
  });

  it('names every faulty attribute once, under the given pointer', () => {
    const errors = cloudEventErrors({ specversion: '2.0', id: '', type: 5, time: 'yesterday' }, '/3');
    expect(errors.map((e) => e.field)).toEqual([
      '/3/source',
      '/3/specversion',
      '/3/id',
      '/3/type',
      '/3/time',
    ]);
    expect(errors[0]?.message).toMatch(/required/i);
  });

  it('rejects bad extension names and non-scalar extension values', () => {
    expect(cloudEventErrors({ ...valid, Bad_Name: 'x' })).toEqual([
      { field: '/Bad_Name', message: expect.stringMatching(/extension attribute name/) },
    ]);
    expect(cloudEventErrors({ ...valid, myext: { nested: true } })).toEqual([
      { field: '/myext', message: expect.stringMatching(/string, number, boolean or null/) },
    ]);
  });

  it('rejects what is not an object', () => {
    for (const value of [null, [], 'event', 42]) {
      expect(cloudEventErrors(value, '/0')).toEqual([
        { field: '/0', message: expect.stringMatching(/JSON object/) },
      ]);
    }
    expect(cloudEventErrors(null)[0]?.field).toBe('/');
  });

  it('refuses control characters and unpaired surrogates in attributes (CloudEvents String), not pairs', () => {
    expect(cloudEventErrors({ ...valid, subject: 'a\u0000b', myext: 'x\ud800', type: 'tab\there' })).toEqual([
      { field: '/type', message: expect.stringMatching(/control characters .* unpaired surrogates/) },
      { field: '/subject', message: expect.stringMatching(/control characters/) },
      { field: '/myext', message: expect.stringMatching(/control characters/) },
    ]);
    expect(
      cloudEventErrors({ ...valid, source: '/a\u0085', id: '\udc00' }, '/2').map((e) => e.field),
    ).toEqual(['/2/id', '/2/source']);
    expect(cloudEventErrors({ ...valid, subject: 'émoji 😀', myext: '😀' })).toEqual([]);
    // The schema's pattern says the control characters, for Ajv (u flag) and TypeBox (none) alike;
    // unpaired surrogates are in its description only: no pattern naming a surrogate compiles in Rust's
    // regex (schemathesis validates with jsonschema-rs, which then drops the whole pattern).
    expect(ATTRIBUTE_STRING_PATTERN).not.toMatch(/\\ud[89a-f]/i);
    for (const flags of ['', 'u']) {
      const pattern = new RegExp(ATTRIBUTE_STRING_PATTERN, flags);
      expect(['ok 😀', 'a\u0000', '\u009f', '\u007f'].map((s) => pattern.test(s))).toEqual([
        true,
        false,
        false,
        false,
      ]);
    }
  });

  it('takes exactly the RFC 3339 date-times of real calendar days of years 0001-9998 as `time`', () => {
    const accepted = [
      '2026-11-26T10:00:00Z',
      '2024-02-29T23:59:59.123456789+23:59',
      '2000-02-29t00:00:00z',
      '0400-02-29T00:00:00Z',
      '0001-01-01T00:00:00+23:59',
      '9998-12-31T23:59:59-23:59',
    ];
    const refused = [
      '2026-02-29T00:00:00Z',
      '1900-02-29T00:00:00Z',
      '2026-04-31T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-01-01T24:00:00Z',
      '2026-01-01T00:00:60Z',
      '2026-01-01T00:00:00+24:00',
      '2026-01-01T00:00:00',
      '0000-01-01T00:00:00Z',
      '9999-01-01T00:00:00Z',
      '٢٠٢٦-01-01T00:00:00Z',
    ];
    for (const time of accepted) {
      expect(cloudEventErrors({ ...valid, time })).toEqual([]);
      expect(parseRfc3339(time, 'time').getTime()).not.toBeNaN();
    }
    for (const time of refused) {
      expect(cloudEventErrors({ ...valid, time }).map((e) => e.field)).toEqual(['/time']);
      expect(new RegExp(RFC3339_PATTERN, 'u').test(time)).toBe(false);
    }
  });

  it('names what MongoDB could not store in data, at its JSON pointer', () => {
    const data = JSON.parse(
      '{"a":{"b\\u0000":1,"s":"x\\ud800","\\udfff":2,"__proto__":{"x":1},"constructor":{"prototype":{}}},"list":[0,"\\ud83d"],"a~b/c":{"__proto__":null}}',
    );
    expect(cloudEventErrors({ ...valid, data }, '/1')).toEqual([
      { field: '/1/data/a/b\u0000', message: expect.stringMatching(/U\+0000/) },
      { field: '/1/data/a/s', message: expect.stringMatching(/unpaired UTF-16 surrogate/) },
      { field: '/1/data/a/\udfff', message: expect.stringMatching(/unpaired UTF-16 surrogate/) },
      { field: '/1/data/a/__proto__', message: expect.stringMatching(/__proto__/) },
      { field: '/1/data/a/constructor', message: expect.stringMatching(/prototype/) },
      { field: '/1/data/list/1', message: expect.stringMatching(/unpaired/) },
      { field: '/1/data/a~0b~1c/__proto__', message: expect.stringMatching(/__proto__/) },
    ]);
    const longKey = Array.from({ length: DATA_LIMITS.maxKeyWords + 1 }, () => 'w').join('.');
    expect(cloudEventErrors({ ...valid, data: { [longKey]: 1 } })[0]?.message).toMatch(/dot-separated/);
  });

  it('keeps what MongoDB stores: U+0000 in values, $ . and empty keys, constructor, big and odd numbers', () => {
    const data = JSON.parse(
      '{"s":"a\\u0000b","$a":1,"a.b":2,"":3,"constructor":"c","k":{"constructor":{"x":1}},"n":[1e308,-0,18446744073709551616],"ok":"😀"}',
    );
    expect(cloudEventErrors({ ...valid, data })).toEqual([]);
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i]));
    expect(cloudEventErrors({ ...valid, data: many })).toEqual([]);
    const dotted = Array.from({ length: DATA_LIMITS.maxKeyWords }, () => 'w').join('.');
    expect(cloudEventErrors({ ...valid, data: { [dotted]: 1 } })).toEqual([]);
  });

  it(`bounds nesting at ${DATA_LIMITS.maxDepth} levels of objects and arrays, naming where it is exceeded`, () => {
    const nest = (levels: number, leaf: unknown = 1) => {
      let value: unknown = leaf;
      for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { a: value };
      return value;
    };
    expect(cloudEventErrors({ ...valid, data: nest(DATA_LIMITS.maxDepth) })).toEqual([]);
    const errors = cloudEventErrors({ ...valid, data: nest(DATA_LIMITS.maxDepth + 1, 'x\ud800') });
    // One error at the first level too deep (nothing below it is looked at).
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/deeper than 90 levels/);
    expect(errors[0]?.field.startsWith('/data/')).toBe(true);
    // 90 segments of "/a" or "/0" after /data: 185 characters, under the pointer bound, exactly named.
    expect(errors[0]?.field).toHaveLength('/data'.length + 2 * DATA_LIMITS.maxDepth);
    // A deep path of long keys is cut, not echoed whole.
    let long: unknown = 1;
    for (let i = 0; i < 150; i++) long = { ['k'.repeat(100)]: long };
    const cut = cloudEventErrors({ ...valid, data: long })[0]?.field ?? '';
    expect(cut).toHaveLength(DATA_LIMITS.maxPointerLength + 1);
    expect(cut.endsWith('…')).toBe(true);
  });
});

describe('cloudEventContentErrors (for an event the route schema accepted)', () => {
  it('finds the same content faults as cloudEventErrors, and nothing on a valid event', () => {
    const data = JSON.parse('{"a":{"s":"x\\ud800","__proto__":{"x":1}},"deep":[[[[1]]]]}');
    const event = { ...valid, specversion: '1.0' as const, subject: 'o-\ud800', data };
    expect(cloudEventContentErrors(event, '/2')).toEqual(cloudEventErrors(event, '/2'));
    expect(cloudEventContentErrors(event, '/2').map((e) => e.field)).toEqual([
      '/2/subject',
      '/2/data/a/s',
      '/2/data/a/__proto__',
    ]);
    expect(
      cloudEventContentErrors({ ...event, subject: 'o-1', data: { nested: { ok: [1, 'two'] } } }),
    ).toEqual([]);
  });
});
