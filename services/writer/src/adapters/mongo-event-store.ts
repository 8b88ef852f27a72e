import {
  type Checkpoint,
  checkpointId,
  classifyServerAnswer,
  DUPLICATE_KEY,
  STORE,
  STORE_ANSWERS,
  type StoredEvent,
} from '@splitstream/shared';
import { type Db, MongoBulkWriteError, type WriteError } from 'mongodb';
import type { HeartbeatPorts } from '../domain/applied-heartbeat';
import type { EventStore, InsertOutcome } from '../domain/ports';
import { classifyStoreError } from './store-errors';

/** The events and checkpoints collections on the primary; one bulk call per micro-batch. */
export class MongoEventStore implements EventStore, Pick<HeartbeatPorts, 'storedOffsets' | 'markApplied'> {
  /**
   * The write in flight per checkpoint: writes of one checkpoint go one at a time, since the local
   * store writes the whole document back (read, change, write) and a heartbeat's mark beside a
   * batch's checkpoint would undo the checkpoint's offset.
   */
  private readonly checkpointWrites = new Map<string, Promise<void>>();

  constructor(private readonly db: Db) {}

  async insertEvents(docs: StoredEvent[]): Promise<InsertOutcome> {
    const events = this.db.collection<StoredEvent>(STORE.collections.events);
    try {
      // Unordered: one refused or duplicate document does not stop the others.
      const result = await events.insertMany(docs, { ordered: false });
      return { inserted: result.insertedCount, duplicateIndexes: [], rejected: [] };
    } catch (error) {
      const outcome = perDocumentOutcome(error);
      if (outcome) return outcome;
      throw classifyStoreError(error);
    }
  }

  async storedOffsets(topic: string): Promise<Map<number, string>> {
    try {
      const docs = await this.checkpoints()
        .find({ topic }, { projection: { partition: 1, offset: 1 } })
        .toArray();
      return new Map(docs.map((doc) => [doc.partition, doc.offset]));
    } catch (error) {
      throw classifyStoreError(error);
    }
  }

  async markApplied(topic: string, partitions: number[], asOf: Date): Promise<void> {
    await Promise.all(
      partitions.map((partition) => {
        const _id = checkpointId(topic, partition);
        return this.oneAtATime(_id, () =>
          this.checkpoints().updateOne(
            { _id },
            // A partition with nothing to store yet gets a checkpoint below its first offset.
            {
              $set: { appliedAsOf: asOf },
              $setOnInsert: { topic, partition, offset: '-1', updatedAt: asOf },
            },
            { upsert: true },
          ),
        );
      }),
    );
  }

  private checkpoints() {
    return this.db.collection<Checkpoint>(STORE.collections.checkpoints);
  }

  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const { _id, ...fields } = checkpoint;
    await this.oneAtATime(_id, () =>
      this.checkpoints().updateOne({ _id }, { $set: fields }, { upsert: true }),
    );
  }

  private async oneAtATime(_id: string, write: () => Promise<unknown>): Promise<void> {
    const previous = this.checkpointWrites.get(_id);
    const mine = (async () => {
      await previous?.catch(() => {});
      try {
        await write();
      } catch (error) {
        throw classifyStoreError(error);
      }
    })();
    this.checkpointWrites.set(_id, mine);
    try {
      await mine;
    } finally {
      if (this.checkpointWrites.get(_id) === mine) this.checkpointWrites.delete(_id);
    }
  }
}

/**
 * When every failure of an unordered bulk insert is about one document (a duplicate or a
 * refusal of that document) the rest was written: that is an outcome, not an error. Anything else
 * (write concern not met, a transient or unknown code) returns undefined and the whole call is
 * classified as one failure.
 */
export function perDocumentOutcome(error: unknown): InsertOutcome | undefined {
  if (!(error instanceof MongoBulkWriteError)) return undefined;
  if (error.result?.getWriteConcernError?.()) return undefined;
  const writeErrors: WriteError[] = Array.isArray(error.writeErrors)
    ? error.writeErrors
    : [error.writeErrors];
  if (writeErrors.length === 0) return undefined;
  const duplicateIndexes: number[] = [];
  const rejected: InsertOutcome['rejected'] = [];
  for (const writeError of writeErrors) {
    if (writeError.code === DUPLICATE_KEY) duplicateIndexes.push(writeError.index);
    else if (
      classifyServerAnswer(writeError.code, writeError.errmsg ?? '') === STORE_ANSWERS.documentRefused
    ) {
      rejected.push({
        index: writeError.index,
        code: writeError.code,
        message: writeError.errmsg ?? 'refused by the store',
      });
    } else return undefined;
  }
  return { inserted: error.insertedCount, duplicateIndexes, rejected };
}
