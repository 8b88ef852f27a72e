import {
  bulkWriteInChunks,
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
export class MongoEventStore implements EventStore, Omit<HeartbeatPorts, 'endOffsets'> {
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
    try {
      await bulkWriteInChunks(
        this.checkpoints(),
        partitions.map((partition) => ({
          updateOne: {
            filter: { _id: checkpointId(topic, partition) },
            // A partition with nothing to store yet gets a checkpoint below its first offset.
            update: {
              $set: { appliedAsOf: asOf },
              $setOnInsert: { topic, partition, offset: '-1', updatedAt: asOf },
            },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    } catch (error) {
      throw classifyStoreError(error);
    }
  }

  private checkpoints() {
    return this.db.collection<Checkpoint>(STORE.collections.checkpoints);
  }

  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const { _id, ...fields } = checkpoint;
    try {
      await this.checkpoints().updateOne({ _id }, { $set: fields }, { upsert: true });
    } catch (error) {
      throw classifyStoreError(error);
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
