/**
 * The applied heartbeat on the real broker and store: an idle, caught-up writer keeps every
 * partition's "applied as of" current on the replica (the read side's staleness bound), and once
 * the writer stops it ages, as it should.
 */
import { type Checkpoint, STORE } from '@splitstream/shared';
import { testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import { MongoClient } from 'mongodb';
import { e2eSuite, event } from './harness';

const suite = e2eSuite();
const replica = new MongoClient(testInfra().readUri);
afterAll(() => replica.close());

/** Milliseconds since the oldest "applied as of" of the topic's partitions on the replica (undefined: not all there). */
async function replicaStaleness(topic: string, partitions: number): Promise<number | undefined> {
  const docs = await replica
    .db(STORE.database)
    .collection<Checkpoint>(STORE.collections.checkpoints)
    .find({ topic })
    .toArray();
  const applied = docs.map((d) => d.appliedAsOf?.getTime()).filter((t): t is number => t !== undefined);
  if (applied.length < partitions) return undefined;
  return Date.now() - Math.min(...applied);
}

it('keeps an idle writer’s partitions applied within about a second on the replica, and stops when the writer does', async () => {
  const topic = await suite.topic('writer-heartbeat', 2);
  const owner = suite.tenant('heartbeat');
  await suite.writer({
    KAFKA_TOPIC: topic,
    KAFKA_DEAD_LETTER_TOPIC: topic,
    KAFKA_GROUP_ID: uniqueName('w'),
    WRITER_APPLIED_HEARTBEAT_MS: '1000',
  });
  // Events on one partition at most (a single key); the other partition never gets any.
  await suite.produce(topic, owner, [event(uniqueName('hb')), event(uniqueName('hb'))]);
  await suite.waitForStored(owner, 2, 30_000);
  await waitFor(async () => (await replicaStaleness(topic, 2)) !== undefined, {
    what: 'both partitions applied on the replica',
    timeoutMs: 10_000,
  });

  // Idle from here: no events arrive, yet the bound stays within interval + replication lag.
  const samples: number[] = [];
  for (let i = 0; i < 16; i++) {
    samples.push((await replicaStaleness(topic, 2)) as number);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  process.stdout.write(`writer heartbeat: idle replica staleness max ${Math.max(...samples)} ms over 4 s\n`);
  expect(Math.max(...samples)).toBeLessThanOrEqual(2_000);

  await suite.closeWriters();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  expect(await replicaStaleness(topic, 2)).toBeGreaterThan(2_500);
}, 90_000);
