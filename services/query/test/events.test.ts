import { CURSOR_PATTERN, SCOPES, STORE, STORE_INDEXES, type StoredEvent } from '@splitstream/shared';
import { uniqueName } from '@splitstream/shared/testing';
import { eventsFilter, eventsSort } from '../src/domain/events';
import { METADATA_FIELD } from '../src/domain/items';
import {
  buildApp,
  newTenant,
  principal,
  removeFixtures,
  seed,
  setCheckpoints,
  storedEvents,
  useQuerySuite,
} from './helpers';

describe('event reads against the replicated store', () => {
  const tenant = newTenant();
  const other = newTenant();
  const topic = uniqueName('qtopic');
  const appliedTime = new Date(Date.now() - 1_500);
  let docs: StoredEvent[];

  const suite = useQuerySuite({
    tenants: [tenant, other],
    topics: [topic],
    env: () => ({ KAFKA_TOPIC: topic }),
    fixtures: async (store) => {
      docs = storedEvents(tenant, [
        {
          id: 'a1',
          type: 'order.created',
          source: '/shop',
          subject: 'o-1',
          time: '2026-03-01T10:00:00Z',
          region: 'eu',
        },
        { id: 'a2', type: 'order.paid', source: '/shop', subject: 'o-1', time: '2026-03-01T10:05:00Z' },
        { id: 'a3', type: 'order.created', source: '/billing', subject: 'o-2', time: '2026-03-01T11:00:00Z' },
        { id: 'a4', type: 'order.created', source: '/shop', time: '2026-03-01T12:00:00Z', data: { n: 4 } },
        { id: 'a5', type: '$gt', source: '/shop', subject: 'o-3', time: '2026-03-01T13:00:00Z' },
        { id: 'dup', type: 'order.paid', source: '/shop', time: '2026-03-01T14:00:00Z' },
        { id: 'dup', type: 'order.paid', source: '/billing', time: '2026-03-01T14:00:00Z' },
      ]);
      await seed(store, [...docs, ...storedEvents(other, [{ id: 'secret', time: '2026-03-01T10:00:00Z' }])]);
      // Partition 0 is the one furthest behind: its time bounds the staleness of every answer.
      const appliedAsOf = { 0: appliedTime, 1: new Date(Date.now() - 200) };
      await setCheckpoints(store, topic, { 0: '10', 1: '12' }, { appliedAsOf });
    },
  });
  const { get } = suite;

  const ids = (body: { items: { id: string; source: string }[] }) =>
    body.items.map((i) => `${i.id}@${i.source}`);

  it('lists the tenant’s events in both orders with the event as ingested plus _splitstream metadata', async () => {
    const asc = await get('/v1/events');
    expect(asc.statusCode).toBe(200);
    expect(ids(asc.json())).toEqual([
      'a1@/shop',
      'a2@/shop',
      'a3@/billing',
      'a4@/shop',
      'a5@/shop',
      // equal times: ordered by identity key, which sorts /billing before /shop
      'dup@/billing',
      'dup@/shop',
    ]);
    expect(asc.json().nextCursor).toBeNull();
    const first = asc.json().items[0];
    expect(first).toEqual({
      ...(docs[0] as StoredEvent).event,
      [METADATA_FIELD]: {
        receivedAt: (docs[0] as StoredEvent).receivedAt.toISOString(),
        storedAt: (docs[0] as StoredEvent).storedAt.toISOString(),
        topic: 'events',
        partition: (docs[0] as StoredEvent).partition,
        offset: (docs[0] as StoredEvent).offset,
      },
    });
    expect(first.region).toBe('eu');
    expect(asc.json().items[3].data).toEqual({ n: 4 });

    const desc = await get('/v1/events?order=desc');
    expect(ids(desc.json())).toEqual([...ids(asc.json())].reverse());
  });

  it('filters by exact type, source, subject and a half-open time range', async () => {
    expect(ids((await get('/v1/events?type=order.created')).json())).toEqual([
      'a1@/shop',
      'a3@/billing',
      'a4@/shop',
    ]);
    expect(ids((await get('/v1/events?source=/billing')).json())).toEqual(['a3@/billing', 'dup@/billing']);
    expect(ids((await get('/v1/events?subject=o-1&order=desc')).json())).toEqual(['a2@/shop', 'a1@/shop']);
    expect(ids((await get('/v1/events?type=order.created&source=/shop')).json())).toEqual([
      'a1@/shop',
      'a4@/shop',
    ]);
    expect(ids((await get('/v1/events?type=order')).json())).toEqual([]);
    const range = await get('/v1/events?since=2026-03-01T10:05:00Z&until=2026-03-01T12:00:00Z');
    expect(ids(range.json())).toEqual(['a2@/shop', 'a3@/billing']);
    const offset = await get(
      `/v1/events?since=${encodeURIComponent('2026-03-01T12:00:00+02:00')}&order=desc`,
    );
    expect(ids(offset.json())).toEqual(
      ids((await get('/v1/events?since=2026-03-01T10:00:00Z&order=desc')).json()),
    );
  });

  it('pages with a cursor of the documented form in both orders', async () => {
    for (const order of ['asc', 'desc']) {
      const all = ids((await get(`/v1/events?order=${order}`)).json());
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await get(`/v1/events?order=${order}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(res.statusCode).toBe(200);
        seen.push(...ids(res.json()));
        cursor = res.json().nextCursor;
        if (cursor) expect(cursor).toMatch(new RegExp(CURSOR_PATTERN));
      } while (cursor);
      expect(seen).toEqual(all);
    }
  });

  it('treats values that look like operators as plain strings', async () => {
    expect(ids((await get('/v1/events?type=$gt')).json())).toEqual(['a5@/shop']);
    expect(ids((await get(`/v1/events?type=${encodeURIComponent('{"$ne":"x"}')}`)).json())).toEqual([]);
    expect(ids((await get('/v1/events?source=$ne')).json())).toEqual([]);
    expect((await get('/v1/events/$ne')).statusCode).toBe(404);
    const bracket = await get('/v1/events?type[$ne]=x');
    expect(bracket.statusCode).toBe(400);
    expect(bracket.json().errors).toEqual([{ field: 'querystring.type[$ne]', message: 'is not allowed' }]);
  });

  it('gets one event by id, by id and source, or 409 naming the sources of a shared id', async () => {
    const one = await get('/v1/events/a3');
    expect(one.statusCode).toBe(200);
    expect(one.json()).toMatchObject({ id: 'a3', source: '/billing', type: 'order.created' });
    expect((await get('/v1/events/a3?source=/billing')).json().id).toBe('a3');
    expect((await get('/v1/events/a3?source=/shop')).statusCode).toBe(404);

    const ambiguous = await get('/v1/events/dup');
    expect(ambiguous.statusCode).toBe(409);
    expect(ambiguous.headers['content-type']).toContain('application/problem+json');
    expect(ambiguous.json()).toMatchObject({ status: 409, sources: ['/billing', '/shop'] });
    expect(ambiguous.json().detail).toContain('/billing, /shop');
    const chosen = await get('/v1/events/dup?source=/shop');
    expect(chosen.statusCode).toBe(200);
    expect(chosen.json().source).toBe('/shop');
  });

  it('finds ids of the maximum length, with characters that need encoding', async () => {
    const longId = `${'x/?#%'.repeat(25)}abc`;
    expect(longId).toHaveLength(128);
    await seed(
      suite.store,
      storedEvents(other, [{ id: longId, source: '/long', time: '2026-03-02T00:00:00Z' }]),
    );
    const res = await get(`/v1/events/${encodeURIComponent(longId)}`, other);
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(longId);
    const status = await get(`/v1/events/${encodeURIComponent(longId)}/status?source=/long`, other);
    expect(status.json()).toMatchObject({ id: longId, status: 'stored' });
  });

  it('names at most 100 sources of a shared id, and says the list is truncated', async () => {
    const crowded = newTenant();
    try {
      await seed(
        suite.store,
        storedEvents(
          crowded,
          Array.from({ length: 101 }, (_, i) => ({
            id: 'popular',
            source: `/s/${String(i).padStart(3, '0')}`,
            time: '2026-03-03T00:00:00Z',
          })),
        ),
      );
      const res = await get('/v1/events/popular', crowded);
      expect(res.statusCode).toBe(409);
      expect(res.json().sources).toHaveLength(100);
      expect(res.json().sources[0]).toBe('/s/000');
      expect(res.json().sourcesTruncated).toBe(true);
      expect(res.json().detail).toContain('more than 100 sources');
    } finally {
      await removeFixtures(suite.store, [crowded]);
    }
  });

  it('never shows another tenant’s events: 404, not 403', async () => {
    const res = await get('/v1/events/secret');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ status: 404, title: 'Not Found' });
    expect((await get('/v1/events/secret', other)).statusCode).toBe(200);
    expect(ids((await get('/v1/events')).json())).not.toContain('secret@/test/source');
    expect((await get('/v1/events/a1', other)).statusCode).toBe(404);
    expect((await get('/v1/events/a1/status', other)).json().status).toBe('unknown');
  });

  it('answers the status of stored and unknown events', async () => {
    expect((await get('/v1/events/a1/status')).json()).toEqual({
      id: 'a1',
      status: 'stored',
      source: '/shop',
      storedAt: (docs[0] as StoredEvent).storedAt.toISOString(),
    });
    expect((await get('/v1/events/nope/status')).json()).toEqual({ id: 'nope', status: 'unknown' });
    expect((await get('/v1/events/dup/status')).statusCode).toBe(409);
    expect((await get('/v1/events/dup/status?source=/billing')).json().status).toBe('stored');
  });

  it('says on every read which endpoint served it and how fresh that endpoint is', async () => {
    for (const url of [
      '/v1/events',
      '/v1/events/a1',
      '/v1/events/a1/status',
      '/v1/deadletters',
      '/v1/events/none',
    ]) {
      const res = await get(url);
      expect(res.headers['splitstream-served-by']).toBe('replica');
      expect(res.headers['splitstream-applied-time']).toBe(appliedTime.toISOString());
      const staleness = Number(res.headers['splitstream-staleness-ms']); // since then, at answer time
      expect(staleness).toBeGreaterThanOrEqual(1_500);
      expect(staleness).toBeLessThanOrEqual(Date.now() - appliedTime.getTime());
    }
    const metrics = (await suite.server.inject('/metrics')).body;
    expect(metrics).toMatch(
      /query_read_duration_seconds_count\{service="query",route="\/v1\/events",served_by="replica"\} [1-9]/,
    );
    const staleness = metrics.match(
      /query_replica_staleness_seconds\{[^}]*endpoint="replica"[^}]*\} ([\d.]+)/,
    );
    expect(Number(staleness?.[1])).toBeGreaterThanOrEqual(1.5);
  });

  it('omits the freshness time when the writer has stored no checkpoint yet', async () => {
    const { server: fresh, config: freshConfig } = await buildApp({
      KAFKA_TOPIC: uniqueName('qtopic-empty'),
    });
    try {
      const res = await fresh.inject({ url: '/v1/events', headers: principal(tenant, freshConfig) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['splitstream-served-by']).toBe('replica');
      expect(res.headers['splitstream-applied-time']).toBeUndefined();
      expect(res.headers['splitstream-staleness-ms']).toBeUndefined();
    } finally {
      await fresh.close();
    }
  });

  it('refuses requests without the gateway’s proof (401) or without the read scope (403)', async () => {
    expect((await suite.server.inject('/v1/events')).statusCode).toBe(401);
    const forged = { ...principal(tenant, suite.config), 'x-splitstream-tenant': other };
    expect((await suite.server.inject({ url: '/v1/events', headers: forged })).statusCode).toBe(401);
    const writeOnly = await suite.server.inject({
      url: '/v1/events',
      headers: principal(tenant, suite.config, [SCOPES.write]),
    });
    expect(writeOnly.statusCode).toBe(403);
    expect(writeOnly.json().detail).toContain('events:read');
  });

  it('keeps a tenant equality on the store for every list filter (explain)', async () => {
    const events = suite.store.read.collection<StoredEvent>(STORE.collections.events);
    const indexNames = (STORE_INDEXES[STORE.collections.events] ?? []).map((i) => i.name);
    for (const filter of [{}, { type: 'order.created' }, { source: '/shop' }, { subject: 'o-1' }]) {
      const query = { tenant, ...filter, range: {}, limit: 100, order: 'asc' as const };
      const plan = (await events
        .find(eventsFilter(query))
        .sort(eventsSort('asc'))
        .limit(101)
        .explain()) as Record<string, unknown>;
      const queryPlanner = plan.queryPlanner as Record<string, unknown>;
      if (queryPlanner.winningPlan) {
        // MongoDB: an index scan on one of the layout's indexes, no collection scan.
        const text = JSON.stringify(queryPlanner.winningPlan);
        expect(text).toContain('IXSCAN');
        expect(text).not.toContain('COLLSCAN');
        expect(indexNames.some((name) => text.includes(`"indexName":"${name}"`))).toBe(true);
      } else {
        // FerretDB v1 on PostgreSQL: the explain is PostgreSQL's plan. Equality filters are pushed
        // down as jsonb containment (`_jsonb->'tenant' @> '"…"'`); the infra bootstrap gives those
        // expressions GIN indexes (infra.sh ensure_pg_lookup_indexes), so PostgreSQL answers from an
        // index (a planner may still prefer a scan of a table too small to matter). Range, sort and
        // limit run in FerretDB.
        expect(plan.filterPushdown).toBe(true);
        const pgRoot = queryPlanner.Plan as { 'Node Type': string; 'Total Cost': number };
        const pgPlan = JSON.stringify(pgRoot).replace(/\\"/g, '"');
        if (pgRoot['Node Type'] === 'Seq Scan') expect(pgRoot['Total Cost']).toBeLessThan(100);
        else expect(pgPlan).toMatch(/Index Scan/);
        expect(pgPlan).toContain(`'tenant'::text) @> '"${tenant}"'`);
        for (const [field, value] of Object.entries(filter))
          expect(pgPlan).toContain(`'${field}'::text) @> '"${value}"'`);
      }
    }
  });
});
