/**
 * The writer as its own process (dist/server.js, as deployed): killed with SIGKILL mid-stream and
 * restarted, nothing is lost and nothing is stored twice; stopped with SIGTERM, it commits what it
 * stored and exits cleanly.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { createTestTopic, uniqueName, waitFor } from '@splitstream/shared/testing';
import type { Admin, Producer } from 'kafkajs';
import type { Db, MongoClient } from 'mongodb';
import {
  cleanUp,
  connectStore,
  countStored,
  endOffsets,
  event,
  eventsOf,
  expectCheckpointsAtEnd,
  groupLag,
  kafka,
  produce,
  spawnWriter,
  storedIdentities,
  tenantName,
} from './harness';

const run = promisify(execFile);
const TOTAL = 12_000;

describe('writer process killed and restarted', () => {
  let client: MongoClient;
  let db: Db;
  let admin: Admin;
  let producer: Producer;
  let topics: string[] = [];
  const children: ReturnType<typeof spawnWriter>[] = [];
  const tenant = tenantName('crash');

  beforeAll(async () => {
    // The child runs the built service: build it from the current sources first.
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: resolve(__dirname, '../..') });
    ({ client, db } = await connectStore());
    admin = kafka.admin();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([admin.connect(), producer.connect()]);
  }, 120_000);
  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await cleanUp(db, tenant, topics);
    await admin.deleteTopics({ topics });
    await Promise.all([admin.disconnect(), producer.disconnect(), client.close()]);
  });

  it('loses nothing and stores nothing twice after SIGKILL mid-stream, and shuts down cleanly on SIGTERM', async () => {
    const topic = await createTestTopic(admin, 'writer-crash', 3);
    const deadLetters = await createTestTopic(admin, 'writer-crash-dlt', 1);
    topics = [topic, deadLetters];
    const env = {
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetters,
      KAFKA_GROUP_ID: uniqueName('writer-crash'),
      // Small micro-batches so the kill lands between stored and committed progress, and small
      // fetches so the first writer is still mid-stream when the kill lands on a loaded machine.
      WRITER_MICRO_BATCH_SIZE: '100',
      KAFKA_MAX_BYTES_PER_PARTITION: '16384',
    };
    const all = Array.from({ length: TOTAL }, (_, i) => event(`c-${i}`));
    await produce(producer, topic, tenant, all.slice(0, 8_000));

    const first = spawnWriter(env);
    children.push(first);
    await waitFor(async () => (await countStored(db, tenant)) >= 1_000, {
      what: 'writer under way',
      intervalMs: 20,
    });
    first.kill('SIGKILL');
    await once(first, 'exit');
    const storedAtKill = await countStored(db, tenant);
    expect(storedAtKill).toBeLessThan(8_000);
    process.stdout.write(`writer crash: SIGKILL with ${storedAtKill} of 8,000 produced events stored\n`);

    // More events arrive while no writer runs; then a new process takes over the group.
    await produce(producer, topic, tenant, all.slice(8_000));
    const second = spawnWriter(env);
    children.push(second);
    await waitFor(async () => (await countStored(db, tenant)) === TOTAL, {
      timeoutMs: 90_000,
      intervalMs: 200,
      what: `all ${TOTAL} events stored (stderr: ${second.output.join('').slice(-2_000)})`,
    });
    await expectCheckpointsAtEnd(admin, db, topic);

    // Each event exactly once, and every offset of every partition accounted for.
    expect(await storedIdentities(db, tenant)).toEqual(
      all.map((e) => `["${tenant}","${e.source}","${e.id}"]`).sort(),
    );
    const ends = await endOffsets(admin, topic);
    for (const [partition, end] of ends) {
      const offsets = await eventsOf(db)
        .find({ tenant, partition }, { projection: { offset: 1 } })
        .toArray();
      const sorted = offsets.map((d) => Number(d.offset)).sort((a, b) => a - b);
      expect(sorted).toEqual(Array.from({ length: Number(end) }, (_, i) => i));
    }

    second.kill('SIGTERM');
    const [code] = await once(second, 'exit');
    expect(code).toBe(0);
    expect(await groupLag(admin, env.KAFKA_GROUP_ID, topic)).toBe(0);
    // Above the 90 s bound of the wait for all events, which a loaded machine may need.
  }, 180_000);
});
