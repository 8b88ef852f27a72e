import { parseRfc3339 } from '@splitstream/shared';

/** RFC 3339 with the calendar checked (shared: ingest's replay filter parses the same way). */
export const parseTime = parseRfc3339;

export interface TimeRange {
  since?: Date;
  until?: Date;
}

/**
 * `since` inclusive, `until` exclusive. An `until` that is not after `since` is an empty range, not
 * an error: no schema can relate two parameters, and the document must say what is accepted.
 */
export function parseRange(since: string | undefined, until: string | undefined): TimeRange {
  const range: TimeRange = {};
  if (since !== undefined) range.since = parseTime(since, 'querystring.since');
  if (until !== undefined) range.until = parseTime(until, 'querystring.until');
  return range;
}

export function rangeFilter(range: TimeRange): Record<string, Date> | undefined {
  if (!range.since && !range.until) return undefined;
  return { ...(range.since ? { $gte: range.since } : {}), ...(range.until ? { $lt: range.until } : {}) };
}
