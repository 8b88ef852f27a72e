import { readRollups } from '@splitstream/shared';
import type { StoreRead } from './store-read';

export const STATS_BY = Object.freeze({ type: 'type', source: 'source', subject: 'subject' } as const);
export type StatsBy = (typeof STATS_BY)[keyof typeof STATS_BY];

export const INTERVALS = Object.freeze({ minute: 'minute', hour: 'hour', day: 'day' } as const);
export type Interval = (typeof INTERVALS)[keyof typeof INTERVALS];

export const INTERVAL_MS: Record<Interval, number> = Object.freeze({
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
});

export interface StatsQuery {
  tenant: string;
  by: StatsBy;
  interval: Interval;
  since: Date;
  until: Date;
}

/**
 * Where one answer stops: `until`, or `maxBuckets` intervals after `since` when the range is longer,
 * so one request cannot ask for years by minute. The longer range is not refused: a bound relating
 * two parameters is one no schema can state, and the document must say exactly what is accepted; the
 * answer says where it stopped and the client continues from there.
 */
export function coveredUntil(
  query: Pick<StatsQuery, 'interval' | 'since' | 'until'>,
  maxBuckets: number,
): Date {
  const bound = new Date(query.since.getTime() + maxBuckets * INTERVAL_MS[query.interval]);
  return query.until > bound ? bound : query.until;
}

/** The range widened to whole minutes, the rollups' finest grain: since down, until up (empty stays empty). */
export function minuteAligned(range: { since: Date; until: Date }): { since: Date; until: Date } {
  const minute = INTERVAL_MS.minute;
  const since = new Date(Math.floor(range.since.getTime() / minute) * minute);
  if (range.until <= range.since) return { since, until: since };
  return { since, until: new Date(Math.ceil(range.until.getTime() / minute) * minute) };
}

export interface StatsGroup {
  /** Bucket start, RFC 3339 UTC. */
  bucket: string;
  /** The grouped attribute's value; null for events without it (only `subject` is optional). */
  key: string | null;
  count: number;
}

/** Stored bucket labels (`2026-11-26T10:15Z`, `2026-11-26T10:00Z`, `2026-11-26`) → RFC 3339 start. */
export function bucketStart(label: string): string {
  if (label.length === 10) return `${label}T00:00:00Z`;
  return `${label.slice(0, 16)}:00Z`;
}

/** Bucket label of a minute or hour label at `interval` (`2026-11-26T10:15Z` → `2026-11-26T10:00Z` by hour). */
function bucketOf(label: string, interval: Interval): string {
  if (interval === INTERVALS.minute) return label;
  if (interval === INTERVALS.hour) return `${label.slice(0, 13)}:00Z`;
  return label.slice(0, 10);
}

/** Counts from the rollups the writer keeps (per UTC day of the range, a read or two; never raw events). */
export async function computeStats(
  { db, maxTimeMS }: StoreRead,
  query: StatsQuery,
): Promise<{ total: number; groups: StatsGroup[] }> {
  const rows = await readRollups(db, { ...query, hourly: query.interval !== INTERVALS.minute }, maxTimeMS);
  const counts = new Map<string, StatsGroup>();
  for (const row of rows) {
    const bucket = bucketStart(bucketOf(row.label, query.interval));
    const key = JSON.stringify([bucket, row.value]);
    const group = counts.get(key) ?? { bucket, key: row.value, count: 0 };
    group.count += row.count;
    counts.set(key, group);
  }
  const groups = [...counts.values()];
  // Events without the attribute (null key) come last in their bucket.
  groups.sort(
    (a, b) => a.bucket.localeCompare(b.bucket) || (a.key ?? '\uffff').localeCompare(b.key ?? '\uffff'),
  );
  return { total: groups.reduce((sum, g) => sum + g.count, 0), groups };
}
