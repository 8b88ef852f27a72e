/**
 * The writer end to end: the real broker, the real store, the writer app in this process.
 * Each test owns its topics, consumer group and tenant.
 */
import {
  DEAD_LETTER_HEADERS,
  type DeadLetterRecord,
  identityKey,
  STORE,
  toKafkaMessage,
} from '@splitstream/shared';
import { uniqueName, waitFor } from '@splitstream/shared/testing';
import type { KafkaMessage } from 'kafkajs';
import { e2eSuite, event, kafka, metricValue } from './harness';

const suite = e2eSuite();
afterEach(() => suite.closeWriters());

it('stores exactly the unique (source, id) events of 10,000 with 5% duplicates and ids reused by a second source', async () => {
  const events = await suite.topic('writer-e2e-10k', 6);
  const deadLetters = await suite.topic('writer-e2e-10k-dlt', 1);
  const owner = suite.tenant('10k');
  // 9,300 events from one source, 200 more reusing some of its ids under another source, and 500
  // deliberate duplicates (client retries) of those 9,500: 10,000 messages, 9,500 distinct events.
  const unique = [
    ...Array.from({ length: 9_300 }, (_, i) => event(`evt-${i}`, '/e2e/a')),
    ...Array.from({ length: 200 }, (_, i) => event(`evt-${i * 7}`, '/e2e/b')),
  ];
  const duplicates = Array.from({ length: 500 }, (_, i) => unique[(i * 19) % unique.length]);
  const all = [...unique];
  duplicates.forEach((dup, i) => {
    if (dup) all.splice(2 * i + 1, 0, { ...dup, data: { retry: true } });
  });
  expect(all).toHaveLength(10_000);

  const server = await suite.writer({
    KAFKA_TOPIC: events,
    KAFKA_DEAD_LETTER_TOPIC: deadLetters,
    KAFKA_GROUP_ID: uniqueName('w'),
  });
  const started = Date.now();
  await suite.produce(events, owner, all);
  await suite.waitForStored(owner, 9_500, 120_000);
  await suite.expectCheckpointsAtEnd(events);
  const seconds = (Date.now() - started) / 1000;
  process.stdout.write(`writer e2e: 10,000 messages stored as 9,500 events in ${seconds.toFixed(1)} s\n`);

  const expected = unique.map((e) => identityKey(owner, e.source, e.id)).sort();
  expect(await suite.storedIdentities(owner)).toEqual(expected);
  // The same id under both sources: two events.
  expect(await suite.events.countDocuments({ tenant: owner, id: 'evt-7' })).toBe(2);
  // The first copy is the one kept; a duplicate changes nothing.
  const first = unique[0];
  expect(await suite.events.findOne({ tenant: owner, source: '/e2e/a', id: first?.id })).toMatchObject({
    event: { data: first?.data },
  });
  expect(await metricValue(server, 'writer_events_stored_total')).toBe(9_500);
  expect(await metricValue(server, 'writer_events_duplicate_total')).toBeGreaterThanOrEqual(500);
  expect(await metricValue(server, 'writer_events_dead_lettered_total')).toBe(0);
  await waitFor(async () => (await metricValue(server, 'writer_consumer_lag_messages')) === 0, {
    what: 'no lag',
  });
  expect(await metricValue(server, 'writer_consumer_lag_seconds')).toBe(0);
  // Above the 120 s bound of the wait for the events, which a loaded machine may need.
}, 180_000);

it('dead-letters a poison message with its reason and stores the events that follow it', async () => {
  const events = await suite.topic('writer-e2e-poison', 2);
  const deadLetters = await suite.topic('writer-e2e-poison-dlt', 1);
  const owner = suite.tenant('poison');
  const good = (id: string) => toKafkaMessage(owner, event(id), new Date());
  const notJson = { ...good('p-1'), value: '{"specversion": "1.0", "id": ' };
  const invalid = toKafkaMessage(owner, { ...event('p-2'), specversion: '0.3' as '1.0' }, new Date());
  const refusedByStore = toKafkaMessage(owner, event('p-3', '/e2e/a', { data: { $set: 1 } }), new Date());
  // All on one partition, so the order (and the offsets) are known.
  await suite.producer.send({
    topic: events,
    acks: -1,
    messages: [good('g-1'), notJson, good('g-2'), invalid, refusedByStore, good('g-3')].map((m) => ({
      ...m,
      partition: 1,
    })),
  });

  const server = await suite.writer({
    KAFKA_TOPIC: events,
    KAFKA_DEAD_LETTER_TOPIC: deadLetters,
    KAFKA_GROUP_ID: uniqueName('w'),
  });
  await suite.waitForStored(owner, 3);
  await suite.expectCheckpointsAtEnd(events);
  expect(
    (await suite.events.find({ tenant: owner }).sort({ offset: 1 }).toArray()).map((d) => [d.id, d.offset]),
  ).toEqual([
    ['g-1', '0'],
    ['g-2', '2'],
    ['g-3', '5'],
  ]);

  const received: KafkaMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('writer-e2e-dlt-reader') });
  await consumer.connect();
  await consumer.subscribe({ topic: deadLetters, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      received.push(message);
    },
  });
  try {
    await waitFor(() => received.length >= 3, { what: 'three dead letters' });
  } finally {
    await consumer.disconnect();
  }
  const header = (m: KafkaMessage | undefined, name: string) => m?.headers?.[name]?.toString();
  const byOffset = new Map(received.map((m) => [header(m, DEAD_LETTER_HEADERS.offset), m]));
  expect([...byOffset.keys()].sort()).toEqual(['1', '3', '4']);
  const undecodable = byOffset.get('1');
  expect(undecodable?.key?.toString()).toBe(notJson.key);
  expect(undecodable?.value?.toString()).toBe(notJson.value);
  expect(header(undecodable, 'splitstream-tenant')).toBe(owner);
  expect(header(undecodable, 'content-type')).toBe('application/cloudevents+json');
  expect(header(undecodable, DEAD_LETTER_HEADERS.topic)).toBe(events);
  expect(header(undecodable, DEAD_LETTER_HEADERS.partition)).toBe('1');
  expect(header(undecodable, DEAD_LETTER_HEADERS.reason)).toMatch(/^undecodable: value is not JSON/);
  expect(header(byOffset.get('3'), DEAD_LETTER_HEADERS.reason)).toMatch(/^invalid-event: .*\/specversion/);
  expect(header(byOffset.get('4'), DEAD_LETTER_HEADERS.reason)).toMatch(
    /^rejected-by-store: .*\$set.*\(store code 2\)/,
  );

  // Recorded for the query service's status and listing.
  const records = await suite.db
    .collection<DeadLetterRecord>(STORE.collections.deadLetters)
    .find({ tenant: owner })
    .sort({ offset: 1 })
    .toArray();
  expect(records.map((r) => [r._id, r.id, r.reason.split(':')[0]])).toEqual([
    [`${events}/1/1`, undefined, 'undecodable'],
    [`${events}/1/3`, 'p-2', 'invalid-event'],
    [`${events}/1/4`, 'p-3', 'rejected-by-store'],
  ]);
  expect(await metricValue(server, 'writer_events_dead_lettered_total')).toBe(3);
  expect(await metricValue(server, 'writer_events_dead_lettered_total', 'reason="rejected-by-store"')).toBe(
    1,
  );
});

it('shares partitions between two writer instances and stores each event once, across the rebalance', async () => {
  const events = await suite.topic('writer-e2e-group', 6);
  const deadLetters = await suite.topic('writer-e2e-group-dlt', 1);
  const owner = suite.tenant('group');
  const groupId = uniqueName('writer-e2e-group');
  const env = { KAFKA_TOPIC: events, KAFKA_DEAD_LETTER_TOPIC: deadLetters, KAFKA_GROUP_ID: groupId };
  const all = Array.from({ length: 4_000 }, (_, i) => event(`g-${i}`));

  const first = await suite.writer(env);
  await suite.produce(events, owner, all.slice(0, 2_000));
  // The second instance joins mid-stream: the group rebalances while events flow.
  const second = await suite.writer(env);
  await suite.produce(events, owner, all.slice(2_000));
  await suite.waitForStored(owner, 4_000, 90_000);
  await suite.expectCheckpointsAtEnd(events);

  const described = await suite.admin.describeGroups([groupId]);
  expect(described.groups[0]?.members).toHaveLength(2);
  expect(await suite.storedIdentities(owner)).toEqual(
    all.map((e) => identityKey(owner, e.source, e.id)).sort(),
  );
  const storedBy = await Promise.all(
    [first, second].map((w) => metricValue(w, 'writer_events_stored_total')),
  );
  expect(storedBy[0]).toBeGreaterThan(0);
  expect(storedBy[1]).toBeGreaterThan(0);
  // Each event inserted by exactly one instance; a redelivery after the rebalance is a counted no-op.
  expect((storedBy[0] ?? 0) + (storedBy[1] ?? 0)).toBe(4_000);
  // Above the 90 s bound of the wait for the events.
}, 150_000);
