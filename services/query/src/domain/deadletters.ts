import { type DeadLetterRecord, STORE } from '@splitstream/shared';
import { Binary, type Db, type Filter } from 'mongodb';
import { afterPosition, type CursorPosition, ORDER, type Order } from './cursor';
import type { Page } from './events';
import { rangeFilter, type TimeRange } from './time-range';

/** A dead letter as the writer stores it (shared DeadLetterRecord, collection `deadletters`). */
export type DeadLetterDoc = DeadLetterRecord;

export interface DeadLettersQuery {
  tenant: string;
  range: TimeRange;
  limit: number;
  order: Order;
  after?: CursorPosition;
}

/** Only the tenant's own dead letters: one whose tenant could not be read is visible to admins only. */
export function deadLettersFilter(query: DeadLettersQuery): Filter<DeadLetterDoc> {
  const filter: Record<string, unknown> = { tenant: query.tenant };
  const and: Record<string, unknown>[] = [];
  const time = rangeFilter(query.range);
  if (time) and.push({ deadLetteredAt: time });
  if (query.after) and.push(afterPosition('deadLetteredAt', query.after, query.order));
  if (and.length > 0) filter.$and = and;
  return filter as Filter<DeadLetterDoc>;
}

export async function findDeadLetters(db: Db, query: DeadLettersQuery): Promise<Page<DeadLetterDoc>> {
  const direction = query.order === ORDER.asc ? 1 : -1;
  const docs = await db
    .collection<DeadLetterDoc>(STORE.collections.deadLetters)
    .find(deadLettersFilter(query))
    .sort({ deadLetteredAt: direction, _id: direction })
    .limit(query.limit + 1)
    .toArray();
  const more = docs.length > query.limit;
  if (more) docs.length = query.limit;
  const last = docs.at(-1);
  return { docs, next: more && last ? { time: last.deadLetteredAt, id: last._id } : undefined };
}

/**
 * Kafka keys and values as text. The writer stores strings; bytes (base64) and other values (JSON)
 * are rendered too, so a record written by another tool cannot break the listing.
 */
function asText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (value instanceof Binary) return Buffer.from(value.buffer).toString('base64');
  if (Buffer.isBuffer(value)) return value.toString('base64');
  return JSON.stringify(value);
}

function headersAsText(headers: unknown): Record<string, string | null> {
  if (headers === null || typeof headers !== 'object') return {};
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, asText(value)]));
}

export function toDeadLetterItem(doc: DeadLetterDoc) {
  return {
    ...(doc.id !== undefined ? { id: doc.id } : {}),
    ...(doc.source !== undefined ? { source: doc.source } : {}),
    ...(doc.type !== undefined ? { type: doc.type } : {}),
    reason: doc.reason,
    deadLetteredAt: doc.deadLetteredAt.toISOString(),
    topic: doc.topic,
    partition: doc.partition,
    offset: doc.offset,
    key: asText(doc.key),
    headers: headersAsText(doc.headers),
    value: asText(doc.value),
    ...(doc.replayedAt ? { replayedAt: doc.replayedAt.toISOString() } : {}),
    ...(doc.replayedTo ? { replayedTo: doc.replayedTo } : {}),
  };
}
