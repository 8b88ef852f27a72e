/**
 * One-off: rollups for the events stored before the writer kept them (`npm run rollups:backfill`).
 * Recomputes every block that holds stored events from those events and writes its counts and
 * ledger absolutely, so running it twice gives the same rollups. Run it with the writers stopped:
 * a writer counting a block while it is rewritten could have its newest counts overwritten.
 */
import {
  type Checkpoint,
  cellList,
  checkpointId,
  countByBlock,
  createWriteClient,
  type PositionedEvent,
  ROLLUP_BLOCK_OFFSETS,
  type RollupDoc,
  type RollupLedger,
  rollupWrites,
  STORE,
} from '@splitstream/shared';
import type { AnyBulkWriteOperation, Db } from 'mongodb';
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
  const checkpointOf = (topic: string, partition: number) =>
    checkpoints.get(checkpointId(topic, partition)) ?? -1;
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
        // Past its partition's checkpoint an event is redelivered to the writer, which counts it then.
        if (Number(event.offset) > checkpointOf(event.topic, event.partition)) continue;
        events += 1;
        yield event;
      }
    })(),
  );
  const ledgers: AnyBulkWriteOperation<RollupLedger>[] = [];
  for (const [key, count] of blocks) {
    const blockEnd = (count.block + 1) * ROLLUP_BLOCK_OFFSETS - 1;
    const through = Math.min(blockEnd, checkpointOf(count.topic, count.partition));
    const writes = rollupWrites(key, count.cells, '$set');
    for (let i = 0; i < writes.length; i += 500)
      await db
        .collection<RollupDoc>(STORE.collections.rollups)
        .bulkWrite(writes.slice(i, i + 500), { ordered: false });
    const { topic, partition, block, cells } = count;
    ledgers.push({
      replaceOne: {
        filter: { _id: key },
        replacement: { topic, partition, block, through, cells: cellList(cells) },
        upsert: true,
      },
    });
  }
  for (let i = 0; i < ledgers.length; i += 100)
    await db.collection<RollupLedger>(STORE.collections.rollupLedger).bulkWrite(ledgers.slice(i, i + 100));
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
