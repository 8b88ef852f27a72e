/**
 * The local infrastructure is real: a kafkajs round trip through the KRaft broker, and the
 * replicated store (FerretDB on a PostgreSQL primary, FerretDB on its hot standby).
 * This suite runs alone, before the others (infra/scripts/test.sh), because it stops and
 * restarts the shared primary store endpoint.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { STORE } from '@splitstream/shared';
import { createTestTopic, testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

const run = promisify(execFile);
const INFRA = resolve(__dirname, '../scripts/infra.sh');
const infra = testInfra();

describe('Kafka broker (KRaft) with kafkajs 2.2.4', () => {
  const kafka = new Kafka({ clientId: 'infra-test', brokers: infra.brokers, logLevel: logLevel.NOTHING });
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await admin.disconnect();
  });

  it('creates and deletes topics', async () => {
    const topic = await createTestTopic(admin, 'infra-admin', 4);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.partitions).toHaveLength(4);
    await admin.deleteTopics({ topics: [topic] });
    await waitFor(async () => !(await admin.listTopics()).includes(topic), { what: 'topic deletion' });
  });

  it('round-trips messages through a consumer group and commits offsets', async () => {
    const topic = await createTestTopic(admin, 'infra-roundtrip', 3);
    const groupId = uniqueName('infra-group');
    const producer = kafka.producer({ idempotent: true });
    const consumer = kafka.consumer({ groupId });
    try {
      await producer.connect();
      const sent = Array.from({ length: 30 }, (_, i) => ({ key: `k${i % 5}`, value: `v${i}` }));
      await producer.send({ topic, acks: -1, messages: sent });

      const received: string[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          received.push(String(message.value));
          await consumer.commitOffsets([
            { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
          ]);
        },
      });
      await waitFor(() => received.length === sent.length, { what: 'all messages consumed' });
      expect(received.sort()).toEqual(sent.map((m) => m.value).sort());

      const committed = await waitFor(
        async () => {
          const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
          const total = offsets?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
          return total === sent.length ? offsets : undefined;
        },
        { what: 'committed offsets' },
      );
      expect(committed.partitions).toHaveLength(3);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
      await admin.deleteTopics({ topics: [topic] });
    }
  });
});

describe('replicated store: FerretDB over a PostgreSQL primary and hot standby', () => {
  let primary: MongoClient;
  let replica: MongoClient;

  beforeAll(async () => {
    primary = await new MongoClient(infra.writeUri).connect();
    replica = await new MongoClient(infra.readUri, { serverSelectionTimeoutMS: 5_000 }).connect();
  });
  afterAll(async () => {
    await Promise.all([primary.close(), replica.close()]);
  });

  // The local replica endpoint only knows collections that existed when it started, so tests use
  // the bootstrapped collections and isolate themselves by unique keys.
  const events = (client: MongoClient) => client.db(STORE.database).collection(STORE.collections.events);

  it('makes a document written on the primary endpoint readable on the replica endpoint', async () => {
    const _id = uniqueName('infra-doc');
    const tenant = uniqueName('infra-tenant');
    const started = process.hrtime.bigint();
    await events(primary).insertOne({ _id: _id as never, tenant, note: 'replicated' });
    const seen = await waitFor(() => events(replica).findOne({ _id: _id as never }), {
      intervalMs: 5,
      what: 'the document on the replica',
    });
    const lagMs = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(`replication lag primary -> replica endpoint: ${lagMs.toFixed(1)} ms\n`);
    expect(seen).toMatchObject({ tenant, note: 'replicated' });
    await events(primary).deleteOne({ _id: _id as never });
  });

  it('refuses writes on the replica endpoint', async () => {
    await expect(events(replica).insertOne({ _id: uniqueName('ro') as never })).rejects.toThrow(/read-only/);
  });

  it('keeps answering reads on the replica endpoint while the primary endpoint is stopped', async () => {
    const _id = uniqueName('infra-ha');
    await events(primary).insertOne({ _id: _id as never, tenant: 'infra-ha' });
    await waitFor(() => events(replica).findOne({ _id: _id as never }), { what: 'replication' });

    await run('bash', [INFRA, 'stop-component', 'ferretdb-primary']);
    try {
      const probe = new MongoClient(infra.writeUri, { serverSelectionTimeoutMS: 1_000 });
      await expect(probe.db('admin').command({ ping: 1 })).rejects.toThrow();
      await probe.close();
      expect(await events(replica).findOne({ _id: _id as never })).toMatchObject({ tenant: 'infra-ha' });
    } finally {
      await run('bash', [INFRA, 'start-component', 'ferretdb-primary']);
    }
    await waitFor(
      () =>
        events(primary)
          .deleteOne({ _id: _id as never })
          .then((r) => r.deletedCount === 1),
      {
        what: 'primary endpoint back',
      },
    );
  });
});
