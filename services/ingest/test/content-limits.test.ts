import { DATA_LIMITS } from '@splitstream/shared';
import { uniqueName } from '@splitstream/shared/testing';
import { ingestSuite, topicSize, writeHeaders } from './helpers';

/**
 * What ingest refuses inside an event beyond the schema's shapes: what a MongoDB document could
 * never hold and what is dangerous to JavaScript consumers. Bodies are raw JSON text, because
 * JSON.stringify cannot write some of them (it escapes a lone surrogate, but a test must also send
 * one written by hand; it has no `-0` or 2^64 literal).
 */
describe('ingest content limits (real broker)', () => {
  // Large bodies on a machine busy with other suites: a slow broker must not decide the answer, as
  // in the ordering suite (buildIngest already keeps event-loop shedding out of the way).
  const suite = ingestSuite({
    partitions: 1,
    env: { INGEST_SEND_STALL_MS: '20000' },
  });
  const tenant = uniqueName('limits');

  /** An event whose `data` is the given JSON text, as the body text of a POST. */
  const eventText = (dataJson: string, attributes = '') =>
    `{"specversion":"1.0","id":"${uniqueName('e')}","source":"/limits","type":"t"${attributes},"data":${dataJson}}`;

  const post = (payload: string, url = '/v1/events', contentType = 'application/json') =>
    suite.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': contentType, ...writeHeaders(tenant) },
      payload,
    });

  const deep = (levels: number) => `${'{"a":'.repeat(levels)}1${'}'.repeat(levels)}`;

  it('answers 400 naming the field for each refused content, and writes nothing', async () => {
    const before = await topicSize(suite.admin, suite.topic);
    const cases: Array<[string, string, RegExp]> = [
      [eventText('{"k":"ok"}', ',"subject":"a\\u0000b"'), '/subject', /control characters/],
      [eventText('{"k":"ok"}', ',"traceparent":"\\ud800"'), '/traceparent', /unpaired surrogates/],
      [eventText('{"a":{"b\\u0000c":1}}'), '/data/a/b\u0000c', /U\+0000/],
      [eventText('{"s":"x\\ud800y"}'), '/data/s', /unpaired UTF-16 surrogate/],
      [eventText('{"list":[1,"\\udc00"]}'), '/data/list/1', /unpaired UTF-16 surrogate/],
      [eventText('{"\\ud83d":1}'), '/data/\ud83d', /unpaired UTF-16 surrogate/],
      [eventText('{"a":{"__proto__":{"polluted":true}}}'), '/data/a/__proto__', /__proto__/],
      [eventText('{"constructor":{"prototype":{"polluted":true}}}'), '/data/constructor', /prototype/],
      [
        eventText(`{"${'w.'.repeat(DATA_LIMITS.maxKeyWords)}w":1}`),
        // A long pointer is cut at 256 characters.
        `/data/${'w.'.repeat(125)}…`,
        /dot-separated/,
      ],
    ];
    for (const [payload, field, message] of cases) {
      for (const contentType of ['application/json', 'application/cloudevents+json']) {
        const response = await post(payload, '/v1/events', contentType);
        expect([response.statusCode, response.headers['content-type']]).toEqual([
          400,
          expect.stringMatching(/^application\/problem\+json/),
        ]);
        expect(response.json().errors).toEqual([{ field, message: expect.stringMatching(message) }]);
      }
    }

    const tooDeep = (await post(eventText(deep(150)))).json();
    expect(tooDeep.errors).toEqual([
      {
        field: `/data${'/a'.repeat(DATA_LIMITS.maxDepth)}`,
        message: expect.stringMatching(/deeper than 90 levels .*MongoDB stores at most 100/),
      },
    ]);
    expect(tooDeep.detail).toMatch(/deeper than 90 levels/);

    // In a batch, the pointer starts with the event's index; the whole batch is refused.
    const batch = await post(
      `[${eventText('{"ok":1}')},${eventText('{"__proto__":1}')},${eventText(deep(91))}]`,
      '/v1/events/batch',
      'application/cloudevents-batch+json',
    );
    expect(batch.statusCode).toBe(400);
    expect(batch.json().errors).toEqual([
      { field: '/1/data/__proto__', message: expect.any(String) },
      { field: `/2/data${'/a'.repeat(DATA_LIMITS.maxDepth)}`, message: expect.any(String) },
    ]);
    expect(await topicSize(suite.admin, suite.topic)).toBe(before);
  });

  it('accepts what MongoDB stores: U+0000 in values, $ . empty and constructor keys, 5,000 keys, odd numbers', async () => {
    const manyKeys = `{${Array.from({ length: 5000 }, (_, i) => `"k${i}":${i}`).join(',')}}`;
    const accepted = [
      eventText('{"s":"a\\u0000b"}'),
      eventText('{"$a":1,"a.b":{"$set":2},"":3}'),
      eventText('{"constructor":"plain","c":{"constructor":{"name":"x"}}}'),
      eventText(manyKeys),
      eventText(deep(DATA_LIMITS.maxDepth)),
      eventText('{"big":1e308,"negzero":-0,"huge":18446744073709551616}'),
      eventText('{"pair":"\\ud83d\\ude00"}', ',"subject":"émoji 😀"'),
    ];
    for (const payload of accepted) {
      const response = await post(payload);
      expect([response.statusCode, response.body]).toEqual([202, expect.any(String)]);
    }
  });
});
