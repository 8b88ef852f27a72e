/**
 * One-off: rollups for the events stored before the writer kept them (`npm run rollups:backfill`).
 * Per block, the stored events up to their partition's checkpoint that no writer counted: all of
 * them in a block without a ledger, those before the writer's first counted offset (`from`) in a
 * block with one. They are added with the same conditional writes as the writer's, under a marker
 * of their own, so a second run adds nothing. Run it with the writers stopped, so no block gets
 * its first ledger while it runs.
 */
import {
  blockKey,
  blockOf,
  type Checkpoint,
  checkpointId,
  countByBlock,
  createWriteClient,
  type PositionedEvent,
  partitionMarker,
  ROLLUP_BLOCK_OFFSETS,
  type RollupLedger,
  STORE,
} from '@splitstream/shared';
import type { Db } from 'mongodb';
import { MongoRollupStore } from './adapters/mongo-rollup-store';
import { loadWriterConfig } from './config';

export interface BackfillSummary {
  blocks: number;
  events: number;
}

/** All topics, or only `topics` (a block belongs to one topic, so a topic is a whole unit). */
export async function backfillRollups(
  db: Db,
  { topics }: { topics?: string[] } = {},
): Promise<BackfillSummary> {
  const ofTopics = topics ? { topic: { $in: topics } } : {};
  const checkpoints = new Map(
    (await db.collection<Checkpoint>(STORE.collections.checkpoints).find(ofTopics).toArray()).map((c) => [
      c._id,
      Number(c.offset),
    ]),
  );
  const ledgers = new Map(
    (await db.collection<RollupLedger>(STORE.collections.rollupLedger).find(ofTopics).toArray()).map((l) => [
      l._id,
      l,
    ]),
  );
  let events = 0;
  const stored = db.collection<PositionedEvent>(STORE.collections.events).find(ofTopics, {
    projection: {
      tenant: 1,
      type: 1,
      source: 1,
      subject: 1,
      buckets: 1,
      topic: 1,
      partition: 1,
      offset: 1,
    },
  });
  const blocks = await countByBlock(
    (async function* () {
      for await (const event of stored) {
        const offset = Number(event.offset);
        // Past its partition's checkpoint an event is redelivered to the writer, which counts it then.
        if (offset > (checkpoints.get(checkpointId(event.topic, event.partition)) ?? -1)) continue;
        const ledger = ledgers.get(blockKey(event.topic, event.partition, blockOf(offset)));
        if (ledger && offset >= ledger.from) continue;
        events += 1;
        yield event;
      }
    })(),
  );
  const rollups = new MongoRollupStore(db);
  // In offset order per partition, under a marker of the backfill's own: offsets only grow under one.
  const ordered = [...blocks].sort(
    ([, a], [, b]) => a.topic.localeCompare(b.topic) || a.partition - b.partition || a.block - b.block,
  );
  for (const [key, { topic, partition, block, cells }] of ordered) {
    const marker = `${partitionMarker(topic, partition)}~backfill`;
    const ledger = ledgers.get(key);
    if (ledger) {
      await rollups.applyCells(marker, ledger.from - 1, cells);
      continue;
    }
    const checkpoint = checkpoints.get(checkpointId(topic, partition)) ?? -1;
    const through = Math.min((block + 1) * ROLLUP_BLOCK_OFFSETS - 1, checkpoint);
    await rollups.applyCells(marker, through, cells);
    await rollups.saveLedger({
      _id: key,
      topic,
      partition,
      block,
      from: block * ROLLUP_BLOCK_OFFSETS,
      through,
    });
  }
  return { blocks: blocks.size, events };
}

async function main(): Promise<void> {
  const config = loadWriterConfig();
  const client = createWriteClient(config.MONGO_WRITE_URI);
  try {
    await client.connect();
    const summary = await backfillRollups(client.db(STORE.database));
    process.stdout.write(`rollups backfilled: ${summary.events} stored events in ${summary.blocks} blocks\n`);
  } finally {
    await client.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `rollups backfill failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exitCode = 1;
  });
}
