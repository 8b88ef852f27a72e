import {
  type CellCounts,
  DUPLICATE_KEY,
  type RollupDoc,
  type RollupLedger,
  rollupWrites,
  STORE,
  type StoredEvent,
} from '@splitstream/shared';
import type { Db } from 'mongodb';
import type { RollupStore, StoredPosition } from '../domain/ports';
import { StoreUnknownError } from '../errors';
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

  async saveBlock(ledger: RollupLedger, changed: CellCounts): Promise<void> {
    await this.raiseCells(ledger._id, changed);
    const { _id, ...fields } = ledger;
    try {
      // Forward only: a writer that lost the partition and still finishes a batch cannot move it back.
      await this.ledgers().updateOne(
        { _id, through: { $lt: ledger.through } },
        { $set: fields },
        { upsert: true },
      );
    } catch (error) {
      // The upsert of a ledger already further along collides with it: nothing to do.
      if (isDuplicateKey(error)) return;
      throw classifyStoreError(error);
    }
  }

  private async raiseCells(block: string, changed: CellCounts): Promise<void> {
    const writes = rollupWrites(block, changed);
    if (writes.length === 0) return;
    const rollups = this.db.collection<RollupDoc>(STORE.collections.rollups);
    for (let attempt = 1; ; attempt += 1) {
      try {
        await rollups.bulkWrite(writes, { ordered: false });
        return;
      } catch (error) {
        // Two partitions creating the same rollup document at once: the loser's upsert collides,
        // and the same write again updates the document the winner created. $max makes it harmless.
        if (!isDuplicateKey(error)) throw classifyStoreError(error);
        if (attempt === 3) throw new StoreUnknownError('rollup upserts keep colliding', { cause: error });
      }
    }
  }

  private ledgers() {
    return this.db.collection<RollupLedger>(STORE.collections.rollupLedger);
  }
}

function isDuplicateKey(error: unknown): boolean {
  if ((error as { code?: unknown }).code === DUPLICATE_KEY) return true;
  const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
  const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
  return list.length > 0 && list.every((e: { code?: unknown }) => e.code === DUPLICATE_KEY);
}
