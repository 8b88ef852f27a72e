import {
  bulkWriteInChunks,
  type DeadLetterRecord,
  deadLetterFilter,
  deadLetterSort,
  isStoreUnavailable,
  STORE,
} from '@splitstream/shared';
import type { AnyBulkWriteOperation, Db } from 'mongodb';
import { IngestUnavailableError, UNAVAILABLE_REASONS } from '../errors';
import type { DeadLetterPosition, DeadLetterSource, ReplayMark, ReplaySelection } from './replay';

/** The shared dead-letter filter of a replay selection: oldest first; replayed ones only when asked. */
function replayFilter({ limit: _limit, includeReplayed, ...selection }: ReplaySelection) {
  return deadLetterFilter({ ...selection, replayed: includeReplayed ? 'include' : 'exclude' });
}

/** The `deadletters` collection on the store's primary (the writer records there). */
export class MongoDeadLetters implements DeadLetterSource {
  constructor(private readonly db: Db) {}

  private get collection() {
    return this.db.collection<DeadLetterRecord>(STORE.collections.deadLetters);
  }

  async select(selection: ReplaySelection): Promise<DeadLetterPosition[]> {
    return this.collection
      .find(replayFilter(selection), {
        projection: { _id: 1, deadLetteredAt: 1, topic: 1, partition: 1, offset: 1 },
      })
      .sort(deadLetterSort())
      .limit(selection.limit + 1)
      .toArray() as Promise<DeadLetterPosition[]>;
  }

  countReplayed(selection: ReplaySelection): Promise<number> {
    const { limit: _limit, includeReplayed: _include, after: _after, ...criteria } = selection;
    return this.collection.countDocuments(deadLetterFilter({ ...criteria, replayed: 'only' }));
  }

  load(tenant: string, deadLetterIds: string[]): Promise<DeadLetterRecord[]> {
    return this.collection.find({ tenant, _id: { $in: deadLetterIds } }).toArray() as Promise<
      DeadLetterRecord[]
    >;
  }

  async markReplayed(tenant: string, topic: string, marks: ReplayMark[], at: Date): Promise<void> {
    if (marks.length === 0) return;
    const operations: AnyBulkWriteOperation<DeadLetterRecord>[] = marks.map((mark) => ({
      updateOne: {
        filter: { tenant, _id: mark.deadLetterId },
        update: {
          $set: { replayedAt: at, replayedTo: { topic, partition: mark.partition, offset: mark.offset } },
        },
      },
    }));
    await bulkWriteInChunks(this.collection, operations, { ordered: false });
  }
}

/** A store that cannot be reached or cannot serve is a 503 with Retry-After; anything else stays a 500. */
export function storeUnavailable(retryAfterSeconds: number) {
  return (error: unknown): unknown =>
    isStoreUnavailable(error)
      ? new IngestUnavailableError(UNAVAILABLE_REASONS.store, 'the store is unreachable or cannot serve', {
          retryAfterSeconds,
          cause: error,
        })
      : error;
}
