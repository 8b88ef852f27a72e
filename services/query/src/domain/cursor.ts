import type { KeysetPosition } from '@splitstream/shared';

/** Sort orders offered by the list routes. */
export const ORDER = Object.freeze({ asc: 'asc', desc: 'desc' } as const);
export type Order = (typeof ORDER)[keyof typeof ORDER];

/** Keyset position: the sort key (time, _id) of the last item of a page (shared codec: cursor.ts). */
export type CursorPosition = KeysetPosition;

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
