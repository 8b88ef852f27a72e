/**
 * The store's primary endpoint goes away for a while: this test's writer reaches the store through
 * a TCP proxy that the test cuts and restores (the shared store itself stays up for other suites).
 */
import { identityKey } from '@splitstream/shared';
import { createTestTopic, TcpProxy, uniqueName, waitFor } from '@splitstream/shared/testing';
import type { FastifyInstance } from 'fastify';
import type { Admin, Producer } from 'kafkajs';
import type { Db, MongoClient } from 'mongodb';
import {
  cleanUp,
  connectStore,
  countStored,
  event,
  expectCheckpointsAtEnd,
  groupLag,
  infra,
  kafka,
  metricValue,
  produce,
  startWriter,
  storedIdentities,
  tenantName,
  waitForStored,
} from './harness';

const OUTAGE_MS = 4_000;

describe('store primary endpoint unavailable', () => {
  let client: MongoClient;
  let db: Db;
  let admin: Admin;
  let producer: Producer;
  let proxy: TcpProxy;
  let writer: FastifyInstance | undefined;
  let topics: string[] = [];
  const tenant = tenantName('outage');

  beforeAll(async () => {
    ({ client, db } = await connectStore());
    admin = kafka.admin();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([admin.connect(), producer.connect()]);
    proxy = await new TcpProxy('127.0.0.1', Number(new URL(infra.writeUri).port)).start();
  });
  afterAll(async () => {
    await writer?.close();
    await proxy.stop();
    await cleanUp(db, tenant, topics);
    await admin.deleteTopics({ topics });
    await Promise.all([admin.disconnect(), producer.disconnect(), client.close()]);
  });

  it('waits and retries while the store is away, lag grows, then drains with nothing lost', async () => {
    const topic = await createTestTopic(admin, 'writer-outage', 3);
    const deadLetters = await createTestTopic(admin, 'writer-outage-dlt', 1);
    topics = [topic, deadLetters];
    const groupId = uniqueName('writer-outage');
    const all = Array.from({ length: 1_500 }, (_, i) => event(`o-${i}`));
    writer = await startWriter({
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetters,
      KAFKA_GROUP_ID: groupId,
      MONGO_WRITE_URI: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true&retryWrites=false`,
    });
    const server = writer;

    await produce(producer, topic, tenant, all.slice(0, 500));
    await waitForStored(db, tenant, 500);

    await proxy.cut();
    const cutAt = Date.now();
    await produce(producer, topic, tenant, all.slice(500));

    // The writer keeps trying, commits nothing past what is stored, and says so.
    await waitFor(async () => (await metricValue(server, 'writer_retries_total')) >= 2, { what: 'retries' });
    await waitFor(async () => (await server.inject('/readyz')).statusCode === 503, { what: 'not ready' });
    const lagEarly = await metricValue(server, 'writer_consumer_lag_seconds');
    await waitFor(async () => (await metricValue(server, 'writer_consumer_lag_messages')) >= 1_000, {
      what: 'lag in messages',
    });
    await waitFor(async () => (await groupLag(admin, groupId, topic)) === 1_000, {
      what: 'group lag of 1,000',
    });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
    expect(await metricValue(server, 'writer_consumer_lag_seconds')).toBeGreaterThan(lagEarly);
    expect(await countStored(db, tenant)).toBe(500);
    expect(await groupLag(admin, groupId, topic)).toBe(1_000);

    await proxy.restore();
    await waitForStored(db, tenant, 1_500);
    await expectCheckpointsAtEnd(admin, db, topic);
    await waitFor(async () => (await groupLag(admin, groupId, topic)) === 0, { what: 'offsets committed' });
    await waitFor(async () => (await metricValue(server, 'writer_consumer_lag_messages')) === 0, {
      what: 'no lag',
    });
    expect(await metricValue(server, 'writer_consumer_lag_seconds')).toBe(0);
    expect(await storedIdentities(db, tenant)).toEqual(
      all.map((e) => identityKey(tenant, e.source, e.id)).sort(),
    );
    expect(await metricValue(server, 'writer_events_dead_lettered_total')).toBe(0);
    await waitFor(async () => (await server.inject('/readyz')).statusCode === 200, { what: 'ready again' });
  });
});
