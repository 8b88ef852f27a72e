import { ValidationError } from './errors';

const RFC3339_PARTS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parses an RFC 3339 date-time (a schema checked its shape) into a Date. JavaScript's parser is
 * lenient (`2026-02-30` becomes March 2nd), so the calendar fields are checked first: an impossible
 * date is a 400 naming `field`, never a silently shifted range. Used by query (query parameters)
 * and ingest (the replay filter).
 */
export function parseRfc3339(value: string, field: string): Date {
  const normalized = value.toUpperCase();
  const parts = RFC3339_PARTS.exec(normalized)
    ?.slice(1)
    .map((p) => (p === undefined ? 0 : Number(p)));
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] =
    parts ?? [];
  const valid =
    parts !== undefined &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59;
  const date = new Date(normalized);
  if (!valid || Number.isNaN(date.getTime())) {
    throw new ValidationError(`${field} is not a valid date-time`, {
      errors: [{ field, message: 'is not a valid RFC 3339 date-time' }],
    });
  }
  return date;
}
