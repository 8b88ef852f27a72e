import { ValidationError } from '@splitstream/shared';

/** Parses a validated RFC 3339 string into a Date; a syntactically valid but impossible date is a 400. */
export function parseTime(value: string, field: string): Date {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    throw new ValidationError(`${field} is not a valid date-time`, {
      errors: [{ field, message: 'is not a valid RFC 3339 date-time' }],
    });
  }
  return date;
}

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
