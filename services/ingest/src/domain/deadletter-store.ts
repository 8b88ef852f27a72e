import { type DeadLetterRecord, isStoreUnavailable, STORE } from '@splitstream/shared';
import type { AnyBulkWriteOperation, Db, Filter } from 'mongodb';
import { IngestUnavailableError, UNAVAILABLE_REASONS } from '../errors';
import type { DeadLetterPosition, DeadLetterSource, ReplayMark, ReplaySelection } from './replay';

/**
 * The filter of a selection. Every value is a validated string, date or one of the reason codes,
 * never an operator from the client; the tenant equality comes first (FerretDB pushes equality
 * down, and it is the prefix of the `tenant_time` index).
 */
export function selectionFilter(
  selection: ReplaySelection,
  options: { cursor: boolean; replayed: 'exclude' | 'include' | 'only' },
): Filter<DeadLetterRecord> {
  const filter: Record<string, unknown> = { tenant: selection.tenant };
  if (selection.ids) filter.id = { $in: selection.ids };
  if (selection.source !== undefined) filter.source = selection.source;
  if (selection.type !== undefined) filter.type = selection.type;
  // `reason` is `code: detail`; the code is one of a fixed set of [a-z-] words (no regex metacharacters).
  if (selection.reason !== undefined) filter.reason = { $regex: `^${selection.reason}:` };
  const and: Record<string, unknown>[] = [];
  if (selection.since || selection.until) {
    and.push({
      deadLetteredAt: {
        ...(selection.since ? { $gte: selection.since } : {}),
        ...(selection.until ? { $lt: selection.until } : {}),
      },
    });
  }
  if (options.cursor && selection.after) {
    const { deadLetteredAt, deadLetterId } = selection.after;
    and.push({
      $or: [{ deadLetteredAt: { $gt: deadLetteredAt } }, { deadLetteredAt, _id: { $gt: deadLetterId } }],
    });
  }
  if (options.replayed === 'exclude') and.push({ replayedAt: { $exists: false } });
  if (options.replayed === 'only') and.push({ replayedAt: { $exists: true } });
  if (and.length > 0) filter.$and = and;
  return filter as Filter<DeadLetterRecord>;
}

/** The `deadletters` collection on the store's primary (the writer records there). */
export class MongoDeadLetters implements DeadLetterSource {
  constructor(private readonly db: Db) {}

  private get collection() {
    return this.db.collection<DeadLetterRecord>(STORE.collections.deadLetters);
  }

  async select(selection: ReplaySelection): Promise<DeadLetterPosition[]> {
    const filter = selectionFilter(selection, {
      cursor: true,
      replayed: selection.includeReplayed ? 'include' : 'exclude',
    });
    return this.collection
      .find(filter, { projection: { _id: 1, deadLetteredAt: 1, topic: 1, partition: 1, offset: 1 } })
      .sort({ deadLetteredAt: 1, _id: 1 })
      .limit(selection.limit + 1)
      .toArray() as Promise<DeadLetterPosition[]>;
  }

  countReplayed(selection: ReplaySelection): Promise<number> {
    return this.collection.countDocuments(selectionFilter(selection, { cursor: false, replayed: 'only' }));
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
    await this.collection.bulkWrite(operations, { ordered: false });
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
