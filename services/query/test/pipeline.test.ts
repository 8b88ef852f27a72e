import type { StoredEvent } from '@splitstream/shared';
import { percentile, ReadCounter } from '../src/domain/pipeline';
import { newTenant, seed, storedEvents, useQuerySuite } from './helpers';

describe('pipeline figures', () => {
  const tenant = newTenant();
  const other = newTenant();
  const now = Date.now();
  /** Latencies (receivedAt → storedAt) of the tenant's events stored over the last 50 s, 1..100 ms. */
  const latencies = Array.from({ length: 100 }, (_, i) => i + 1);

  const suite = useQuerySuite({
    tenants: [tenant, other],
    fixtures: async (store) => {
      const docs = storedEvents(
        tenant,
        latencies.map((_, i) => ({ id: `p-${i}`, time: new Date(now - 60_000) })),
      ).map((doc, i) => {
        const storedAt = new Date(now - 50_000 + i * 400);
        return { ...doc, storedAt, receivedAt: new Date(storedAt.getTime() - (latencies[i] as number)) };
      });
      // Stored long before the window: never counted.
      const old = storedEvents(tenant, [{ id: 'old', time: new Date(now - 3_600_000) }]).map((doc) => ({
        ...doc,
        receivedAt: new Date(now - 3_600_000),
        storedAt: new Date(now - 3_600_000),
      }));
      const theirs = storedEvents(other, [{ id: 'theirs', time: new Date(now) }]);
      await seed(store, [...docs, ...old, ...theirs] as StoredEvent[]);
    },
  });

  it("answers the tenant's accepted and stored rates, latency percentiles and buckets, with freshness headers", async () => {
    const res = await suite.get('/v1/pipeline?window=60&step=10');
    expect(res.statusCode).toBe(200);
    expect(res.headers['splitstream-served-by']).toBe('replica');
    const body = res.json();
    expect(body.windowSeconds).toBe(60);
    expect(body.stepSeconds).toBe(10);
    expect(body.storedPerSecond).toBeCloseTo(100 / 60, 2);
    expect(body.acceptedPerSecond).toBeCloseTo(100 / 60, 2);
    expect(body.latencyMs).toEqual({ p50: 50, p99: 99, max: 100 });
    expect(body.sampled).toBe(false);
    expect(body.buckets).toHaveLength(6);
    expect(body.buckets.reduce((n: number, b: { stored: number }) => n + b.stored, 0)).toBe(100);
    expect(Date.parse(body.until) - Date.parse(body.since)).toBe(60_000);
    expect(body.buckets[0].start).toBe(body.since);
  });

  it('sees nothing of another tenant, and nothing outside the window', async () => {
    const theirs = (await suite.get('/v1/pipeline?window=10', other)).json();
    expect(theirs.storedPerSecond).toBeCloseTo(1 / 10, 2);
    expect(theirs.latencyMs.p50).not.toBeNull();
    const narrow = (await suite.get('/v1/pipeline?window=10', newTenant())).json();
    expect(narrow).toMatchObject({ storedPerSecond: 0, acceptedPerSecond: 0, latencyMs: { p50: null } });
  });

  it("counts the tenant's reads answered by this instance, not the pipeline route's own", async () => {
    const reader = newTenant();
    const before = (await suite.get('/v1/pipeline?window=10', reader)).json();
    expect(before.readsPerSecond).toBe(0);
    for (let i = 0; i < 5; i++) expect((await suite.get('/v1/events?limit=1', reader)).statusCode).toBe(200);
    const after = (await suite.get('/v1/pipeline?window=10', reader)).json();
    expect(after.readsPerSecond).toBeCloseTo(5 / 10, 2);
    expect(after.buckets.reduce((n: number, b: { reads: number }) => n + b.reads, 0)).toBe(5);
    // Another tenant's reads are not this one's.
    expect((await suite.get('/v1/pipeline?window=10', newTenant())).json().readsPerSecond).toBe(0);
  });

  it('refuses parameters out of bounds and unknown ones, and widens a step that would give too many buckets', async () => {
    for (const url of [
      '/v1/pipeline?window=9',
      '/v1/pipeline?window=601',
      '/v1/pipeline?step=0',
      '/v1/pipeline?step=61',
      '/v1/pipeline?window=abc',
      '/v1/pipeline?nope=1',
    ]) {
      const res = await suite.get(url);
      expect([url, res.statusCode]).toEqual([url, 400]);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    const wide = (await suite.get('/v1/pipeline?window=600&step=1')).json();
    expect(wide.stepSeconds).toBe(5);
    expect(wide.buckets).toHaveLength(120);
  });

  it('needs the signed principal', async () => {
    expect((await suite.server.inject('/v1/pipeline')).statusCode).toBe(401);
  });
});

describe('pipeline helpers', () => {
  it('percentile is nearest-rank', () => {
    expect(percentile([], 50)).toBeNull();
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
  });

  it('ReadCounter keeps one-second slots per tenant and forgets past its window', () => {
    const counter = new ReadCounter(10);
    counter.count('a', 1_000);
    counter.count('a', 1_500);
    counter.count('a', 5_000);
    counter.count('b', 5_000);
    expect([...counter.between('a', 0, 6_000)]).toEqual([
      [1, 2],
      [5, 1],
    ]);
    expect([...counter.between('a', 2_000, 6_000)]).toEqual([[5, 1]]);
    expect([...counter.between('a', 0, 20_000)]).toEqual([]);
    expect([...counter.between('b', 0, 6_000)]).toEqual([[5, 1]]);
  });
});
