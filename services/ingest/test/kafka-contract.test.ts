import { randomBytes } from 'node:crypto';
import { decodeToken, headerString, KAFKA_HEADERS, partitionKey } from '@splitstream/shared';
import { uniqueName } from '@splitstream/shared/testing';
import { partitionFor } from '../src/domain/partitioning';
import {
  buildReadyIngest,
  type ConsumedMessage,
  consumeTopic,
  createTopic,
  ingestSuite,
  sampleEvent,
  writeHeaders,
} from './helpers';

const PARTITIONS = 6;

/** What a 202 promises, checked by reading the topic back from the real broker. */
describe('ingest → Kafka contract (real broker)', () => {
  // A generous linger so concurrent requests surely share sends (the offset arithmetic under test).
  const suite = ingestSuite({ partitions: PARTITIONS, env: { INGEST_LINGER_MS: '20' } });
  const tenant = uniqueName('tenant');

  const post = (url: string, payload: unknown, asTenant = tenant) =>
    suite.app.inject({ method: 'POST', url, headers: writeHeaders(asTenant), payload: payload as object });

  it('writes 202-acknowledged events with the right key, headers, partition and offsets', async () => {
    const before = Date.now();
    // The body tries to choose a tenant: it must not.
    const withSubject = sampleEvent({ subject: 'order-1', tenant: 'someone-else' });
    const withoutSubject = sampleEvent({ time: '2026-01-02T03:04:05Z' });
    const single = await post('/v1/events', withSubject);
    expect(single.statusCode).toBe(202);
    expect(single.json().id).toBe(withSubject.id);
    const batchEvents = [
      sampleEvent({ subject: 'order-2' }),
      withoutSubject,
      sampleEvent({ subject: 'order-1' }),
    ];
    const batch = await post('/v1/events/batch', batchEvents);
    expect(batch.statusCode).toBe(202);
    expect(batch.json()).toMatchObject({ accepted: 3, ids: batchEvents.map((e) => e.id) });

    // Many concurrent requests, coalesced into shared sends: each token must carry exactly the
    // highest offset of its own messages per partition (baseOffset + index within the send).
    const concurrent = Array.from({ length: 40 }, (_, i) =>
      i % 4 === 0
        ? [
            sampleEvent({ subject: `s-${i % 7}` }),
            sampleEvent({ subject: `s-${(i + 1) % 7}` }),
            sampleEvent(),
          ]
        : [sampleEvent({ subject: `s-${i % 7}` })],
    );
    const responses = await Promise.all(
      concurrent.map((events, i) =>
        i % 2 === 0 ? post('/v1/events/batch', events) : post('/v1/events', events[0]),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(responses.map(() => 202));
    const metrics = (await suite.app.inject('/metrics')).body;
    const sends = Number(/ingest_producer_batch_messages_count\{[^}]*\} (\d+)/.exec(metrics)?.[1]);
    expect(sends).toBeLessThan(concurrent.length / 2);

    const total = 1 + batchEvents.length + concurrent.flat().length;
    const messages = await consumeTopic(suite.kafka, suite.topic, total);
    expect(messages).toHaveLength(total);
    const byId = new Map<string, ConsumedMessage>(messages.map((m) => [String(m.value.id), m]));

    const first = byId.get(String(withSubject.id)) as ConsumedMessage;
    expect(first.key).toBe(`${tenant}/order-1`);
    expect(first.partition).toBe(partitionFor(`${tenant}/order-1`, PARTITIONS));
    expect(headerString(first.headers, KAFKA_HEADERS.tenant)).toBe(tenant);
    expect(headerString(first.headers, KAFKA_HEADERS.contentType)).toBe('application/cloudevents+json');
    const receivedAt = Date.parse(headerString(first.headers, KAFKA_HEADERS.receivedAt) ?? '');
    expect(receivedAt).toBeGreaterThanOrEqual(before - 1);
    // The missing time was filled from the ingest clock; the body's "tenant" stayed a mere extension.
    expect(first.value.time).toBe(headerString(first.headers, KAFKA_HEADERS.receivedAt));
    expect(first.value.tenant).toBe('someone-else');
    expect(decodeToken(single.json().token)).toEqual({
      topic: suite.topic,
      offsets: { [first.partition]: first.offset },
    });

    const noSubject = byId.get(String(withoutSubject.id)) as ConsumedMessage;
    expect(noSubject.key).toBe(partitionKey(tenant, withoutSubject as never));
    expect(noSubject.key).toBe(`${tenant}/${withoutSubject.source}/${withoutSubject.id}`);
    expect(noSubject.value.time).toBe('2026-01-02T03:04:05Z');

    const requests = [
      { events: [withSubject], token: single.json().token },
      { events: batchEvents, token: batch.json().token },
      ...concurrent.map((events, i) => ({
        events: i % 2 === 0 ? events : [events[0]],
        token: responses[i]?.json().token,
      })),
    ];
    for (const { events, token } of requests) {
      const expected: Record<string, string> = {};
      for (const event of events) {
        const m = byId.get(String(event?.id)) as ConsumedMessage;
        expect(m.partition).toBe(partitionFor(m.key, PARTITIONS));
        if (
          expected[m.partition] === undefined ||
          BigInt(m.offset) > BigInt(expected[m.partition] as string)
        ) {
          expected[m.partition] = m.offset;
        }
      }
      expect(decodeToken(token)).toEqual({ topic: suite.topic, offsets: expected });
    }
  });

  it('accepts a ~1 MiB batch for one subject uncompressed (sent in parts under the broker limit), in order', async () => {
    const bigTopic = await createTopic(suite.admin, PARTITIONS);
    const uncompressed = await buildReadyIngest(bigTopic, { KAFKA_COMPRESSION: 'none' });
    try {
      const events = Array.from({ length: 1000 }, (_, i) =>
        sampleEvent({ subject: 'one-subject', data: { i, blob: randomBytes(600).toString('base64') } }),
      );
      const body = JSON.stringify(events);
      expect(body.length).toBeGreaterThan(900_000);
      const response = await uncompressed.inject({
        method: 'POST',
        url: '/v1/events/batch',
        headers: { ...writeHeaders(tenant), 'content-type': 'application/json' },
        payload: body,
      });
      expect(response.statusCode).toBe(202);
      const messages = await consumeTopic(suite.kafka, bigTopic, events.length);
      const partition = partitionFor(`${tenant}/one-subject`, PARTITIONS);
      expect(messages.map((m) => m.partition)).toEqual(events.map(() => partition));
      expect(messages.map((m) => m.value.id)).toEqual(events.map((e) => e.id));
      expect(decodeToken(response.json().token).offsets).toEqual({ [partition]: '999' });
      const metrics = (await uncompressed.inject('/metrics')).body;
      expect(
        Number(/ingest_producer_batch_messages_count\{[^}]*\} (\d+)/.exec(metrics)?.[1]),
      ).toBeGreaterThan(1);
    } finally {
      await uncompressed.close();
      await suite.admin.deleteTopics({ topics: [bigTopic] });
    }
  });
});
