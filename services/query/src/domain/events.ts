import {
  afterPosition,
  ConflictError,
  identityKey,
  type KeysetPosition,
  ORDER,
  type Order,
  type Page,
  rangeFilter,
  readPage,
  STORE,
  type StoredEvent,
  type TimeRange,
} from '@splitstream/shared';
import type { Filter } from 'mongodb';
import type { StoreRead } from './store-read';

export interface EventsQuery {
  tenant: string;
  type?: string;
  source?: string;
  subject?: string;
  range: TimeRange;
  limit: number;
  order: Order;
  after?: KeysetPosition;
}

/**
 * The find filter for a page. The tenant equality comes first and every filter value is a plain
 * string or Date placed under a field name we chose, so no client value can act as an operator.
 */
export function eventsFilter(query: EventsQuery): Filter<StoredEvent> {
  const filter: Record<string, unknown> = { tenant: query.tenant };
  if (query.type !== undefined) filter.type = query.type;
  if (query.source !== undefined) filter.source = query.source;
  if (query.subject !== undefined) filter.subject = query.subject;
  const and: Record<string, unknown>[] = [];
  const time = rangeFilter(query.range);
  if (time) and.push({ time });
  if (query.after) and.push(afterPosition('time', query.after, query.order));
  if (and.length > 0) filter.$and = and;
  return filter as Filter<StoredEvent>;
}

export function eventsSort(order: Order): { time: 1 | -1; _id: 1 | -1 } {
  const direction = order === ORDER.asc ? 1 : -1;
  return { time: direction, _id: direction };
}

/** One keyset page of the tenant's events. */
export function findEvents({ db, maxTimeMS }: StoreRead, query: EventsQuery): Promise<Page<StoredEvent>> {
  const find = db
    .collection<StoredEvent>(STORE.collections.events)
    .find(eventsFilter(query), { maxTimeMS })
    .sort(eventsSort(query.order));
  return readPage(find, query.limit, (doc) => ({ time: doc.time, id: doc._id }));
}

/** How many sources a 409 names at most (an id shared by more is reported as truncated). */
export const MAX_SOURCES_NAMED = 100;

/**
 * One event by id within the tenant. With `source` the identity is complete and the lookup is by
 * primary key; without it an id several sources share is ambiguous: 409 naming them.
 */
export async function findEvent(
  { db, maxTimeMS }: StoreRead,
  tenant: string,
  id: string,
  source: string | undefined,
): Promise<StoredEvent | undefined> {
  const events = db.collection<StoredEvent>(STORE.collections.events);
  if (source !== undefined) {
    return (
      (await events.findOne({ _id: identityKey(tenant, source, id), tenant }, { maxTimeMS })) ?? undefined
    );
  }
  // One round trip in the common case (zero or one match); a second only to name the sources.
  const matches = await events.find({ tenant, id }, { maxTimeMS }).limit(2).toArray();
  if (matches.length < 2) return matches[0];
  const sources = await events
    .find({ tenant, id }, { projection: { _id: 0, source: 1 }, maxTimeMS })
    .sort({ source: 1 })
    .limit(MAX_SOURCES_NAMED + 1)
    .toArray();
  const names = sources.slice(0, MAX_SOURCES_NAMED).map((s) => s.source);
  const truncated = sources.length > MAX_SOURCES_NAMED;
  throw new ConflictError(
    `event id ${JSON.stringify(id)} is used by ${truncated ? 'more than ' : ''}${names.length} sources: ` +
      `${names.join(', ')}; pass source to choose one`,
    { extensions: { sources: names, ...(truncated ? { sourcesTruncated: true } : {}) } },
  );
}
