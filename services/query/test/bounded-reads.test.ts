import { newTenant, seed, storedEvents, useQuerySuite } from './helpers';

/**
 * Every store query carries READ_MAX_TIME_MS as maxTimeMS. A read the store gives up on answers
 * 503 + Retry-After naming the bound, and the endpoint stays in rotation: the query was slow, not
 * the endpoint (falling back would put the same slow query on the primary, the write side).
 */
describe('reads bounded in time (real store)', () => {
  const tenant = newTenant();
  const EVENTS = 20_000;
  const suite = useQuerySuite({
    tenants: [tenant],
    env: () => ({ READ_MAX_TIME_MS: '200' }),
    fixtures: async (store) => {
      const start = Date.parse('2026-04-01T00:00:00Z');
      await seed(
        store,
        storedEvents(
          tenant,
          Array.from({ length: EVENTS }, (_, i) => ({ id: `slow-${i}`, time: new Date(start + i * 1_000) })),
        ),
      );
    },
    timeoutMs: 120_000,
  });

  it('answers 503 + Retry-After naming the bound when a query runs past it, and the replica keeps serving', async () => {
    // A range over 20,000 events (about 0.8 s on this machine): the local store evaluates ranges
    // itself, row by row. A lookup by id takes a few ms, far below the bound even under load.
    const slow = await suite.get('/v1/events?since=2026-04-01T01:00:00Z&order=desc&limit=5');
    expect(slow.statusCode).toBe(503);
    expect(slow.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(slow.headers['retry-after']).toBe('1');
    expect(slow.headers['splitstream-served-by']).toBe('replica');
    expect(slow.json().detail).toMatch(
      /replica store did not finish this read within READ_MAX_TIME_MS=200 ms/,
    );

    // Stats over the same 20,000 events stay far inside the bound: they read rollups, not events.
    const stats = await suite.get(
      '/v1/stats?since=2026-04-01T00:00:00Z&until=2026-04-02T00:00:00Z&interval=hour&by=type',
    );
    expect(stats.statusCode).toBe(200);
    expect(stats.json().total).toBe(EVENTS);

    // Not held out, not failed over: the next cheap read is the replica's.
    const ready = await suite.server.inject('/readyz');
    expect(ready.statusCode).toBe(200);
    const cheap = await suite.get('/v1/events/slow-7?source=/test/source');
    expect(cheap.statusCode).toBe(200);
    expect(cheap.headers['splitstream-served-by']).toBe('replica');

    const metrics = (await suite.server.inject('/metrics')).body;
    expect(metrics).toMatch(
      /query_read_time_limit_exceeded_total\{[^}]*route="\/v1\/events"[^}]*served_by="replica"[^}]*\} 1/,
    );
    expect(metrics).toMatch(/query_store_fallbacks_total\{[^}]*\} 0/);
  });
});
