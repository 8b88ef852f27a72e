import {
  type CellCounts,
  DUPLICATE_KEY,
  type RollupDoc,
  type RollupLedger,
  rollupWrites,
  STORE,
  type StoredEvent,
  UPDATES_PER_COMMAND,
} from '@splitstream/shared';
import { type AnyBulkWriteOperation, type Collection, type Db, MongoBulkWriteError } from 'mongodb';
import type { RollupStore, StoredPosition } from '../domain/ports';
import { classifyStoreError } from './store-errors';

/** The rollups and ledgers on the primary. */
export class MongoRollupStore implements RollupStore {
  constructor(private readonly db: Db) {}

  async ledger(blockKey: string): Promise<RollupLedger | null> {
    try {
      return await this.ledgers().findOne({ _id: blockKey });
    } catch (error) {
      throw classifyStoreError(error);
    }
  }

  async storedPositions(ids: string[]): Promise<Map<string, StoredPosition>> {
    try {
      // One equality each: the local store pushes an _id equality down, never an $in.
      const docs = await Promise.all(
        ids.map((_id) =>
          this.db
            .collection<StoredEvent>(STORE.collections.events)
            .findOne({ _id }, { projection: { topic: 1, partition: 1, offset: 1 } }),
        ),
      );
      const positions = new Map<string, StoredPosition>();
      for (const doc of docs) {
        if (doc) positions.set(doc._id, { topic: doc.topic, partition: doc.partition, offset: doc.offset });
      }
      return positions;
    } catch (error) {
      throw classifyStoreError(error);
    }
  }

  async applyCells(marker: string, through: number, cells: CellCounts): Promise<void> {
    const writes = rollupWrites(marker, through, cells);
    const rollups = this.db.collection<RollupDoc>(STORE.collections.rollups);
    for (let i = 0; i < writes.length; i += UPDATES_PER_COMMAND) {
      const chunk = writes.slice(i, i + UPDATES_PER_COMMAND);
      try {
        await rollups.bulkWrite(chunk, { ordered: false });
      } catch (error) {
        if (!isDuplicateKey(error)) throw classifyStoreError(error);
        // The local store stops an update command at its first error: each one again, alone.
        for (const write of chunk) await applyOne(rollups, write);
      }
    }
  }

  async saveLedger(ledger: RollupLedger): Promise<void> {
    const { _id, ...fields } = ledger;
    try {
      // Never back: a writer that lost the partition and still finishes a batch cannot undo counts.
      await this.ledgers().replaceOne({ _id, through: { $lte: ledger.through } }, fields, { upsert: true });
    } catch (error) {
      // The upsert of a ledger already further along collides with it: nothing to do.
      if (!isDuplicateKey(error)) throw classifyStoreError(error);
    }
  }

  private ledgers() {
    return this.db.collection<RollupLedger>(STORE.collections.rollupLedger);
  }
}

/**
 * A duplicate key is a document that has these counts already, or one another partition created
 * between our filter and our insert: sent again, the second kind takes the update and the first
 * collides again, which is then final.
 */
async function applyOne(
  rollups: Collection<RollupDoc>,
  write: AnyBulkWriteOperation<RollupDoc>,
): Promise<void> {
  for (let attempt = 1; attempt <= 2; attempt += 1) {
    try {
      await rollups.bulkWrite([write]);
      return;
    } catch (error) {
      if (!isDuplicateKey(error)) throw classifyStoreError(error);
    }
  }
}

/** Refused for duplicate keys only. */
function isDuplicateKey(error: unknown): boolean {
  if ((error as { code?: unknown }).code === DUPLICATE_KEY) return true;
  if (!(error instanceof MongoBulkWriteError)) return false;
  const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
  return writeErrors.length > 0 && writeErrors.every((e) => e.code === DUPLICATE_KEY);
}
