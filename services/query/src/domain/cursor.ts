import { createHash } from 'node:crypto';
import { ValidationError } from '@splitstream/shared';

/** Sort orders offered by the list routes. */
export const ORDER = Object.freeze({ asc: 'asc', desc: 'desc' } as const);
export type Order = (typeof ORDER)[keyof typeof ORDER];

/** Keyset position: the sort key (time, _id) of the last item of a page. */
export interface CursorPosition {
  time: Date;
  id: string;
}

const VERSION = 1;

/**
 * A short digest of the filters and order a cursor was issued for: a cursor replayed with other
 * filters is refused instead of silently paging through a different result set.
 */
export function queryFingerprint(parts: Record<string, string | number | undefined>): string {
  const canonical = JSON.stringify(Object.entries(parts).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/** Opaque to clients (base64url JSON); only ever decoded into typed values, never into a filter. */
export function encodeCursor(position: CursorPosition, fingerprint: string): string {
  return Buffer.from(
    JSON.stringify({ v: VERSION, t: position.time.getTime(), i: position.id, f: fingerprint }),
  ).toString('base64url');
}

export function decodeCursor(
  value: string,
  fingerprint: string,
  field = 'querystring.cursor',
): CursorPosition {
  const invalid = (message: string) =>
    new ValidationError(`${field} ${message}`, { errors: [{ field, message }] });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid('is not a cursor this service issued');
  }
  const { v, t, i, f } = (parsed ?? {}) as Record<string, unknown>;
  if (
    v !== VERSION ||
    typeof t !== 'number' ||
    !Number.isSafeInteger(t) ||
    typeof i !== 'string' ||
    typeof f !== 'string'
  ) {
    throw invalid('is not a cursor this service issued');
  }
  if (f !== fingerprint)
    throw invalid('belongs to a query with other filters or order; start again without it');
  return { time: new Date(t), id: i };
}

/**
 * Keyset condition "after this position in this order" on (timeField, _id). The range bound on the
 * time field keeps index bounds tight; the $or breaks ties between equal times by _id.
 */
export function afterPosition(
  timeField: string,
  position: CursorPosition,
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
