import { Type } from '@sinclair/typebox';
import type { FindCursor } from 'mongodb';
import { ValidationError } from './errors';

/**
 * A keyset position: the sort key (time, _id) of the last item of a page. Every list the platform
 * serves (query's events and dead letters, ingest's dead-letter replay) pages by it, in this format.
 */
export interface KeysetPosition {
  time: Date;
  id: string;
}

/*
 * Text form: `c1.<milliseconds since 1970, may be negative>.<base64url of the id's UTF-8>`, `c1` the
 * format's version (a later format gets another, and old cursors are refused by name). Any value of
 * that form is a position: a forged one, or one from a page of other filters, only moves where the
 * page starts, within the caller's own tenant and filters. So the pattern below says exactly which
 * values are accepted; a fingerprint of the filters would make schema-valid values a 400. 15 digits
 * keep every value inside JavaScript's date range (±8.64e15 ms).
 */
const CURSOR_VERSION = 'c1';
const CURSOR = /^c1\.(-?(?:0|[1-9][0-9]{0,14}))\.([A-Za-z0-9_-]*)$/;
export const CURSOR_PATTERN = CURSOR.source;
/**
 * An event's _id holds its tenant, source (up to 2048 characters) and id, up to ~9 KiB of UTF-8:
 * base64url makes that 12 KiB.
 */
export const CURSOR_MAX_LENGTH = 16 * 1024;

export function encodeCursor(position: KeysetPosition): string {
  return `${CURSOR_VERSION}.${position.time.getTime()}.${Buffer.from(position.id, 'utf8').toString('base64url')}`;
}

/** The position of `value`, or a 400 naming `field` (e.g. `querystring.cursor`, `/cursor`). */
export function decodeCursor(value: string, field: string): KeysetPosition {
  const match = value.length <= CURSOR_MAX_LENGTH ? CURSOR.exec(value) : null;
  if (!match) {
    const message = 'is not a cursor (nextCursor of a previous page)';
    throw new ValidationError(`${field} ${message}`, { errors: [{ field, message }] });
  }
  return {
    time: new Date(Number(match[1])),
    id: Buffer.from(match[2] as string, 'base64url').toString('utf8'),
  };
}

/** The `cursor` parameter or body field: the same rule validates and documents it. */
export function cursorSchema(description: string) {
  return Type.String({
    maxLength: CURSOR_MAX_LENGTH,
    pattern: CURSOR_PATTERN,
    description: `${description}. Form: \`c1.<milliseconds since 1970>.<base64url>\` (a position: the page starts after it)`,
    examples: [encodeCursor({ time: new Date('2026-11-26T10:00:00Z'), id: 'events/3/1041' })],
  });
}

/** Sort orders offered by the list routes. */
export const ORDER = Object.freeze({ asc: 'asc', desc: 'desc' } as const);
export type Order = (typeof ORDER)[keyof typeof ORDER];

/**
 * Keyset condition "after this position in this order" on (timeField, _id). The range bound on the
 * time field keeps index bounds tight; the $or breaks ties between equal times by _id.
 */
export function afterPosition(
  timeField: string,
  position: KeysetPosition,
  order: Order,
): Record<string, unknown> {
  const [strict, loose] = order === ORDER.asc ? (['$gt', '$gte'] as const) : (['$lt', '$lte'] as const);
  return {
    [timeField]: { [loose]: position.time },
    $or: [
      { [timeField]: { [strict]: position.time } },
      { [timeField]: position.time, _id: { [strict]: position.id } },
    ],
  };
}

/** One keyset page of a list. */
export interface Page<T> {
  docs: T[];
  /** Position after the last returned document, when more may follow. */
  next: KeysetPosition | undefined;
}

/** Reads one page from a find sorted in keyset order: asks for limit + 1 to know whether more follow without counting. */
export async function readPage<T>(
  find: FindCursor<T>,
  limit: number,
  positionOf: (doc: T) => KeysetPosition,
): Promise<Page<T>> {
  const docs = await find.limit(limit + 1).toArray();
  const more = docs.length > limit;
  if (more) docs.length = limit;
  const last = docs.at(-1);
  return { docs, next: more && last !== undefined ? positionOf(last) : undefined };
}
