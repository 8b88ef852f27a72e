import { parseRfc3339, ValidationError } from '@splitstream/shared';

/** RFC 3339 with the calendar checked (shared: ingest's replay filter parses the same way). */
export const parseTime = parseRfc3339;

export interface TimeRange {
  since?: Date;
  until?: Date;
}

/** `since` inclusive, `until` exclusive; `until` must come after `since`. */
export function parseRange(since: string | undefined, until: string | undefined): TimeRange {
  const range: TimeRange = {};
  if (since !== undefined) range.since = parseTime(since, 'querystring.since');
  if (until !== undefined) range.until = parseTime(until, 'querystring.until');
  if (range.since && range.until && range.until <= range.since) {
    throw new ValidationError('querystring.until must be after since', {
      errors: [{ field: 'querystring.until', message: 'must be after since' }],
    });
  }
  return range;
}

export function rangeFilter(range: TimeRange): Record<string, Date> | undefined {
  if (!range.since && !range.until) return undefined;
  return { ...(range.since ? { $gte: range.since } : {}), ...(range.until ? { $lt: range.until } : {}) };
}
