import {
  type DeadLetterRecord,
  deadLetterFilter,
  deadLetterPosition,
  deadLetterSort,
  type KeysetPosition,
  type Order,
  type Page,
  readPage,
  STORE,
  type TimeRange,
} from '@splitstream/shared';
import { Binary } from 'mongodb';
import type { StoreRead } from './store-read';

export interface DeadLettersQuery {
  tenant: string;
  range: TimeRange;
  limit: number;
  order: Order;
  after?: KeysetPosition;
}

/** One keyset page of the tenant's own dead letters (one whose tenant could not be read is visible to admins only). */
export function findDeadLetters(
  { db, maxTimeMS }: StoreRead,
  query: DeadLettersQuery,
): Promise<Page<DeadLetterRecord>> {
  const { limit, ...selection } = query;
  const find = db
    .collection<DeadLetterRecord>(STORE.collections.deadLetters)
    .find(deadLetterFilter(selection), { maxTimeMS })
    .sort(deadLetterSort(query.order));
  return readPage(find, limit, deadLetterPosition);
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

export function toDeadLetterItem(doc: DeadLetterRecord) {
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
