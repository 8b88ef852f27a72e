import { parseRfc3339 } from './time';

/** A time range of a list or a replay: `since` inclusive, `until` exclusive. */
export interface TimeRange {
  since?: Date;
  until?: Date;
}

/**
 * The range of two validated RFC 3339 parameters, named by `field` (`querystring.since`,
 * `/filter/since`). An `until` that is not after `since` is an empty range, not an error: no
 * schema can relate two parameters, and the document must say what is accepted.
 */
export function parseRange(
  values: { since?: string | undefined; until?: string | undefined },
  field: (name: 'since' | 'until') => string,
): TimeRange {
  return {
    ...(values.since !== undefined ? { since: parseRfc3339(values.since, field('since')) } : {}),
    ...(values.until !== undefined ? { until: parseRfc3339(values.until, field('until')) } : {}),
  };
}

/** The store condition of a range on one date field, or undefined for an open range. */
export function rangeFilter(range: TimeRange): Record<string, Date> | undefined {
  if (!range.since && !range.until) return undefined;
  return { ...(range.since ? { $gte: range.since } : {}), ...(range.until ? { $lt: range.until } : {}) };
}
