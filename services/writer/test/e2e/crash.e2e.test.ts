/**
 * The writer as its own process (dist/server.js, as deployed): killed with SIGKILL mid-stream and
 * restarted, nothing is lost and nothing is stored twice; stopped with SIGTERM, it commits what it
 * stored and exits cleanly.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { readRollups } from '@splitstream/shared';
import { uniqueName, waitFor } from '@splitstream/shared/testing';
import { e2eSuite, event, spawnWriter } from './harness';

const run = promisify(execFile);
const TOTAL = 12_000;

describe('writer process killed and restarted', () => {
  beforeAll(async () => {
    // The child runs the built service: build it from the current sources first.
    await run('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: resolve(__dirname, '../..') });
  }, 120_000);
  const suite = e2eSuite();
  const children: ReturnType<typeof spawnWriter>[] = [];
  const tenant = suite.tenant('crash');
  suite.defer(() => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('loses nothing and stores nothing twice after SIGKILL mid-stream, and shuts down cleanly on SIGTERM', async () => {
    const topic = await suite.topic('writer-crash', 3);
    const deadLetters = await suite.topic('writer-crash-dlt', 1);
    const env = {
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetters,
      KAFKA_GROUP_ID: uniqueName('writer-crash'),
      // Small micro-batches so the kill lands between stored and committed progress, and small
      // fetches so the first writer is still mid-stream when the kill lands on a loaded machine.
      WRITER_MICRO_BATCH_SIZE: '100',
      KAFKA_MAX_BYTES_PER_PARTITION: '16384',
    };
    const started = Date.now();
    const all = Array.from({ length: TOTAL }, (_, i) => event(`c-${i}`));
    await suite.produce(topic, tenant, all.slice(0, 8_000));

    const first = spawnWriter(env);
    children.push(first);
    // Its start (a group join) and first 1,000 inserts share the 2 cores with the parallel suites.
    await waitFor(async () => (await suite.countStored(tenant)) >= 1_000, {
      timeoutMs: 60_000,
      intervalMs: 20,
      what: () => `writer under way (stderr: ${first.output.join('').slice(-2_000)})`,
    });
    first.kill('SIGKILL');
    await once(first, 'exit');
    const storedAtKill = await suite.countStored(tenant);
    expect(storedAtKill).toBeLessThan(8_000);
    process.stdout.write(`writer crash: SIGKILL with ${storedAtKill} of 8,000 produced events stored\n`);

    // More events arrive while no writer runs; then a new process takes over the group.
    await suite.produce(topic, tenant, all.slice(8_000));
    const second = spawnWriter(env);
    children.push(second);
    await waitFor(async () => (await suite.countStored(tenant)) === TOTAL, {
      timeoutMs: 90_000,
      intervalMs: 200,
      what: () => `all ${TOTAL} events stored (stderr: ${second.output.join('').slice(-2_000)})`,
    });
    await suite.expectCheckpointsAtEnd(topic);
    // The rollups count each event once, across the kill (which lands between events and counts too).
    const counted = await readRollups(
      suite.db,
      { tenant, by: 'type', since: new Date(started - 3_600_000), until: new Date(Date.now() + 3_600_000) },
      10_000,
    );
    expect(counted.reduce((sum, row) => sum + row.count, 0)).toBe(TOTAL);

    // Each event exactly once, and every offset of every partition accounted for.
    expect(await suite.storedIdentities(tenant)).toEqual(
      all.map((e) => `["${tenant}","${e.source}","${e.id}"]`).sort(),
    );
    const ends = await suite.endOffsets(topic);
    for (const [partition, end] of ends) {
      const offsets = await suite.events.find({ tenant, partition }, { projection: { offset: 1 } }).toArray();
      const sorted = offsets.map((d) => Number(d.offset)).sort((a, b) => a - b);
      expect(sorted).toEqual(Array.from({ length: Number(end) }, (_, i) => i));
    }

    second.kill('SIGTERM');
    const [code] = await once(second, 'exit');
    expect(code).toBe(0);
    expect(await suite.groupLag(env.KAFKA_GROUP_ID, topic)).toBe(0);
    // Above the 60 s and 90 s bounds of its two waits, which a loaded machine may need.
  }, 240_000);
});
