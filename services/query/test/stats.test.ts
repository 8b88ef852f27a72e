import { STORE, type StoredEvent, timeBuckets } from '@splitstream/shared';
import type { MongoBulkWriteError } from 'mongodb';
import { buildApp, newTenant, principal, seed, storedEvents, useQuerySuite } from './helpers';

const SINCE = Date.UTC(2026, 6, 1, 22, 0);
const UNTIL = Date.UTC(2026, 6, 2, 1, 0); // three hours, across a day boundary
const TYPES = ['order.created', 'order.paid', 'order.shipped'];
const SOURCES = ['/shop', '/billing'];
const SUBJECTS = ['o-1', 'o-2', undefined];

describe('stats', () => {
  const tenant = newTenant();
  const other = newTenant();
  let docs: StoredEvent[];

  const suite = useQuerySuite({
    tenants: [tenant, other],
    fixtures: async (store) => {
      let seedValue = 7;
      const random = (n: number) => {
        seedValue = (seedValue * 48271) % 2147483647;
        return seedValue % n;
      };
      const specs = Array.from({ length: 300 }, (_, i) => ({
        id: `s-${i}`,
        type: TYPES[random(TYPES.length)],
        source: SOURCES[random(SOURCES.length)],
        subject: SUBJECTS[random(SUBJECTS.length)],
        // a little outside the range on both sides, and exactly on both bounds
        time: new Date(SINCE - 600_000 + random(UNTIL - SINCE + 1_200_000)),
      }));
      specs.push({
        id: 'on-since',
        type: 'edge',
        source: '/shop',
        subject: undefined,
        time: new Date(SINCE),
      });
      specs.push({
        id: 'on-until',
        type: 'edge',
        source: '/shop',
        subject: undefined,
        time: new Date(UNTIL),
      });
      docs = storedEvents(tenant, specs);
      await seed(store, [
        ...docs,
        ...storedEvents(other, [{ type: 'order.created', time: new Date(SINCE + 1000) }]),
      ]);
      // A redelivered copy of stored events is a no-op for the store (same identity): never counted twice.
      const redelivered = await store.write
        .collection<StoredEvent>(STORE.collections.events)
        .insertMany(docs.slice(0, 20), { ordered: false })
        .then(
          (result) => result.insertedCount,
          (error: MongoBulkWriteError) => error.insertedCount,
        );
      expect(redelivered).toBe(0);
    },
  });

  /** The expected answer over [since, until), computed here from the fixtures. */
  const expected = (
    by: 'type' | 'source' | 'subject',
    interval: 'minute' | 'hour' | 'day',
    since = SINCE,
    until = UNTIL,
  ) => {
    const counts = new Map<string, number>();
    for (const doc of docs) {
      const t = doc.time.getTime();
      if (t < since || t >= until) continue;
      const label = timeBuckets(doc.time)[interval];
      const bucket = label.length === 10 ? `${label}T00:00:00Z` : `${label.slice(0, 16)}:00Z`;
      const key = JSON.stringify([bucket, doc[by] ?? null]);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts]
      .map(([key, count]) => {
        const [bucket, k] = JSON.parse(key) as [string, string | null];
        return { bucket, key: k, count };
      })
      .sort(
        (a, b) => a.bucket.localeCompare(b.bucket) || (a.key ?? '\uffff').localeCompare(b.key ?? '\uffff'),
      );
  };

  it.each([
    ['type', 'hour'],
    ['source', 'day'],
    ['subject', 'minute'],
  ] as const)('counts by %s per %s exactly as computed from the fixtures', async (by, interval) => {
    const since = new Date(SINCE).toISOString();
    const until = new Date(UNTIL).toISOString();
    const res = await suite.server.inject({
      url: `/v1/stats?by=${by}&interval=${interval}&since=${since}&until=${until}`,
      headers: principal(tenant, suite.config),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const groups = expected(by, interval);
    expect(body.groups).toEqual(groups);
    expect(body).toMatchObject({
      by,
      interval,
      since,
      until,
      complete: true,
      total: groups.reduce((s, g) => s + g.count, 0),
    });
    // the event exactly on `since` counts, the one exactly on `until` does not
    expect(body.total).toBe(docs.filter((d) => d.time.getTime() >= SINCE && d.time.getTime() < UNTIL).length);
    expect(body.groups.some((g: { key: string }) => g.key === 'edge')).toBe(by === 'type');
  });

  it.each([
    'hour',
    'day',
  ] as const)('counts per %s over a range that cuts hours, whole hours and the cut ones alike', async (interval) => {
    const since = SINCE + 30 * 60_000;
    const until = UNTIL - 15 * 60_000;
    const res = await suite.server.inject({
      url: `/v1/stats?by=source&interval=${interval}&since=${new Date(since).toISOString()}&until=${new Date(until).toISOString()}`,
      headers: principal(tenant, suite.config),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().groups).toEqual(expected('source', interval, since, until));
  });

  it('widens bounds inside a minute to the whole minute, and the answer says so', async () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const res = await suite.server.inject({
      url: `/v1/stats?interval=minute&since=${iso(SINCE + 30_000)}&until=${iso(SINCE + 90_000)}`,
      headers: principal(tenant, suite.config),
    });
    expect(res.statusCode).toBe(200);
    const inRange = docs.filter((d) => d.time.getTime() >= SINCE && d.time.getTime() < SINCE + 120_000);
    expect(inRange.length).toBeGreaterThan(0);
    expect(res.json()).toMatchObject({
      since: iso(SINCE),
      until: iso(SINCE + 120_000),
      complete: true,
      total: inRange.length,
    });
  });

  it('defaults to by=type per hour, and counts only the tenant’s own events', async () => {
    const res = await suite.server.inject({
      url: `/v1/stats?since=${new Date(SINCE).toISOString()}&until=${new Date(SINCE + 3_600_000).toISOString()}`,
      headers: principal(other, suite.config),
    });
    expect(res.json()).toMatchObject({
      by: 'type',
      interval: 'hour',
      total: 1,
      groups: [{ bucket: '2026-07-01T22:00:00Z', key: 'order.created', count: 1 }],
    });
  });

  it('answers a range longer than STATS_MAX_BUCKETS intervals in parts that add up exactly', async () => {
    const narrow = await buildApp({ STATS_MAX_BUCKETS: '60' }); // an hour: the three hours take three answers
    try {
      const until = new Date(UNTIL).toISOString();
      let since = new Date(SINCE).toISOString();
      let total = 0;
      const parts: boolean[] = [];
      for (;;) {
        const res = await narrow.server.inject({
          url: `/v1/stats?interval=minute&since=${since}&until=${until}`,
          headers: principal(tenant, narrow.config),
        });
        expect(res.statusCode).toBe(200);
        const body = res.json();
        expect(body.since).toBe(since);
        if (!body.complete) expect(Date.parse(body.until) - Date.parse(since)).toBe(60 * 60_000);
        total += body.total;
        parts.push(body.complete);
        if (body.complete) break;
        since = body.until;
      }
      expect(parts).toEqual([false, false, true]);
      expect(total).toBe(expected('type', 'minute').reduce((s, g) => s + g.count, 0));
    } finally {
      await narrow.server.close();
    }
  });

  it.each([
    ['equal to', SINCE],
    ['before', SINCE - 3_600_000],
  ])('answers an empty range when until is %s since', async (_what, until) => {
    const res = await suite.server.inject({
      url: `/v1/stats?since=${new Date(SINCE).toISOString()}&until=${new Date(until).toISOString()}`,
      headers: principal(tenant, suite.config),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ complete: true, total: 0, groups: [] });
  });
});
