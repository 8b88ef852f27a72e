import {
  blockKey,
  blockOf,
  type CellCounts,
  cellList,
  cellsOf,
  countEvent,
  partitionMarker,
} from '@splitstream/shared';
import type { KafkaMessage } from 'kafkajs';
import { StoreRejectedError } from '../errors';
import type { Entry, WriteOutcome } from './isolate';
import type { BatchScope } from './ports';
import { retrying } from './retry';

/** One block's part of a micro-batch. */
interface BlockPart {
  /** First and last offsets of the micro-batch in this block. */
  from: number;
  through: number;
  inserted: Entry[];
  duplicates: Entry[];
}

/**
 * Counts the micro-batch's stored events in the rollups, exactly once (see rollups.ts in shared):
 * per block, only offsets past what its ledger has counted, and of those only events whose stored copy
 * is this message's own: written now, or found stored with this message's position (an earlier
 * delivery that stopped before its counts). A copy stored by another message (a client retry, a
 * replayed event already stored) never counts here; it counted where it was stored.
 */
export async function countOnce(
  scope: BatchScope,
  messages: KafkaMessage[],
  written: WriteOutcome,
): Promise<void> {
  const parts = new Map<number, BlockPart>();
  const partOf = (offset: string) => {
    const block = blockOf(offset);
    let part = parts.get(block);
    if (!part) {
      part = { from: Number(offset), through: -1, inserted: [], duplicates: [] };
      parts.set(block, part);
    }
    return part;
  };
  for (const message of messages) {
    const part = partOf(message.offset);
    part.through = Math.max(part.through, Number(message.offset));
  }
  for (const entry of written.inserted) partOf(entry.message.offset).inserted.push(entry);
  for (const entry of written.duplicates) partOf(entry.message.offset).duplicates.push(entry);

  for (const [block, part] of parts) {
    try {
      await retrying(scope, 'rollups', () => countBlock(scope, block, part));
    } catch (error) {
      if (!(error instanceof StoreRejectedError)) throw error;
      // The events are stored; holding the partition for their counts would stop everything behind.
      const missed = part.inserted.length + part.duplicates.length;
      scope.deps.log.error(
        { topic: scope.topic, partition: scope.partition, block, events: missed, err: error },
        'rollups refused by the store: stats miss these events',
      );
      scope.deps.observer?.rollupsRefused?.(scope.topic, missed);
    }
  }
}

async function countBlock({ topic, partition, deps }: BatchScope, block: number, part: BlockPart) {
  const key = blockKey(topic, partition, block);
  const marker = partitionMarker(topic, partition);
  const ledger = await deps.rollups.ledger(key);
  const base = { _id: key, topic, partition, block, from: ledger?.from ?? part.from };
  let counted = ledger?.through ?? -1;
  if (ledger?.pending) {
    // An earlier delivery stopped between its ledger and its counts: finish its counts first.
    await deps.rollups.applyCells(marker, ledger.pending.through, cellsOf(ledger.pending.cells));
    counted = ledger.pending.through;
  }
  if (part.through <= counted) {
    if (ledger?.pending) await deps.rollups.saveLedger({ ...base, through: counted });
    return;
  }
  const fresh = (entry: Entry) => Number(entry.message.offset) > counted;

  const found = part.duplicates.filter(fresh);
  const positions =
    found.length > 0 ? await deps.rollups.storedPositions(found.map((e) => e.doc._id)) : new Map();
  const own = found.filter((entry) => {
    const position = positions.get(entry.doc._id);
    return (
      position?.topic === topic &&
      position.partition === partition &&
      position.offset === entry.message.offset
    );
  });

  const cells: CellCounts = new Map();
  for (const entry of [...part.inserted.filter(fresh), ...own]) countEvent(cells, entry.doc);
  if (cells.size > 0) {
    await deps.rollups.saveLedger({
      ...base,
      through: counted,
      pending: { through: part.through, cells: cellList(cells) },
    });
    await deps.rollups.applyCells(marker, part.through, cells);
  }
  await deps.rollups.saveLedger({ ...base, through: part.through });
}
