import { STORE, type StoredEvent } from '@splitstream/shared';
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

/**
 * $match with the tenant equality first (the only part the local store pushes down), then the
 * event-time range; $group on the precomputed UTC bucket (the local store has no $dateTrunc).
 * Each stored document is one event (its _id is the identity), so counts are exact.
 */
export function statsPipeline(query: StatsQuery): Record<string, unknown>[] {
  return [
    { $match: { tenant: query.tenant, time: { $gte: query.since, $lt: query.until } } },
    { $group: { _id: { bucket: `$buckets.${query.interval}`, key: `$${query.by}` }, count: { $sum: 1 } } },
  ];
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

export async function computeStats(
  { db, maxTimeMS }: StoreRead,
  query: StatsQuery,
): Promise<{ total: number; groups: StatsGroup[] }> {
  const rows = await db
    .collection<StoredEvent>(STORE.collections.events)
    .aggregate<{ _id: { bucket: string; key?: string | null }; count: number }>(statsPipeline(query), {
      maxTimeMS,
    })
    .toArray();
  const groups = rows.map((row) => ({
    bucket: bucketStart(row._id.bucket),
    key: row._id.key ?? null,
    count: row.count,
  }));
  // Sorted here, not in the pipeline: the result is small and the local store sorts no faster.
  // Events without the attribute (null key) come last in their bucket.
  groups.sort(
    (a, b) => a.bucket.localeCompare(b.bucket) || (a.key ?? '\uffff').localeCompare(b.key ?? '\uffff'),
  );
  return { total: groups.reduce((sum, g) => sum + g.count, 0), groups };
}
