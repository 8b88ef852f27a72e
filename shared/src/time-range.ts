import { Type } from '@sinclair/typebox';
import { RFC3339_PATTERN } from './event';
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

/** An RFC 3339 timestamp parameter. */
export const DateTime = (description: string, example: string) =>
  Type.String({ pattern: RFC3339_PATTERN, description, examples: [example] });

/** The optional `since`/`until` parameters of a list over `what` (e.g. 'Event time'). */
export const rangeParameters = (what: string) => ({
  since: Type.Optional(DateTime(`${what} lower bound, inclusive (RFC 3339)`, '2026-11-26T00:00:00Z')),
  until: Type.Optional(
    DateTime(`${what} upper bound, exclusive (not after since: nothing matches)`, '2026-11-27T00:00:00Z'),
  ),
});
