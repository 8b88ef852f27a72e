import { STORE, type StoredEvent } from '@splitstream/shared';
import { newTenant, principal, seed, storedEvents, useQuerySuite } from './helpers';

const EXISTING = 2_500;
const PAGE = 100;
const NEW_PER_PAGE = 10;
const BASE = Date.UTC(2026, 4, 1);
// Each page costs the local store a scan of the tenant's events (FerretDB filters and sorts in memory).
const WALK_TIMEOUT_MS = 150_000;
// What this suite checks is keyset order, not time bounds (bounded-reads does): a page that a busy
// machine slows past the default 5 s bound would be a 503 that says nothing about pagination.
const PAGE_MAX_TIME_MS = 30_000;

describe('keyset pagination under concurrent inserts', () => {
  const tenant = newTenant();

  const suite = useQuerySuite({
    tenants: [tenant],
    env: () => ({ READ_MAX_TIME_MS: String(PAGE_MAX_TIME_MS) }),
    fixtures: async (store) => {
      // Three events per second: equal times make the _id tie-break part of page boundaries.
      await seed(
        store,
        storedEvents(
          tenant,
          Array.from({ length: EXISTING }, (_, i) => ({
            id: `old-${i}`,
            time: new Date(BASE + Math.floor(i / 3) * 1000),
          })),
        ),
      );
    },
    timeoutMs: WALK_TIMEOUT_MS,
  });

  it.each(['asc', 'desc'])(
    'walks %s all 2,500 events in pages of 100 with no gap or repeat while new ones are inserted',
    async (order) => {
      // New events arrive during the walk: a batch is inserted while each page is being read, at
      // times spread over the whole range (some land behind the cursor, some ahead of it, some on a
      // time existing events have). Tied to the pages rather than a clock, so a slow machine cannot
      // make the range grow faster than the walk advances.
      let inserted = 0;
      const insertBatch = async () => {
        const batch = Array.from({ length: NEW_PER_PAGE }, (_, i) => ({
          id: `new-${order}-${inserted + i}`,
          time: new Date(BASE + Math.floor(Math.random() * (EXISTING / 3)) * 1000),
        }));
        inserted += batch.length;
        await suite.store.write
          .collection<StoredEvent>(STORE.collections.events)
          .insertMany(storedEvents(tenant, batch));
      };

      const seen = new Map<string, number>();
      const keys: [number, string][] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const [res] = await Promise.all([
          suite.server.inject({
            url: `/v1/events?limit=${PAGE}&order=${order}${cursor ? `&cursor=${cursor}` : ''}`,
            headers: principal(tenant, suite.config),
          }),
          insertBatch(),
        ]);
        // With the body, so a failure names its cause.
        expect({ status: res.statusCode, body: res.statusCode === 200 ? 'ok' : res.body }).toEqual({
          status: 200,
          body: 'ok',
        });
        const body = res.json() as {
          items: { id: string; time: string; source: string }[];
          nextCursor: string | null;
        };
        expect(body.items.length).toBeLessThanOrEqual(PAGE);
        for (const item of body.items) {
          seen.set(item.id, (seen.get(item.id) ?? 0) + 1);
          keys.push([Date.parse(item.time), JSON.stringify([tenant, item.source, item.id])]);
        }
        cursor = body.nextCursor;
        pages += 1;
      } while (cursor);

      for (let i = 0; i < EXISTING; i += 1) expect(seen.get(`old-${i}`)).toBe(1);
      expect([...seen.values()].every((count) => count === 1)).toBe(true);
      expect(pages).toBeGreaterThanOrEqual(EXISTING / PAGE);
      expect(inserted).toBe(pages * NEW_PER_PAGE);
      // Both cases happened: new events ahead of the cursor were listed, those behind it were not.
      const newSeen = [...seen.keys()].filter((id) => id.startsWith(`new-${order}-`)).length;
      expect(newSeen).toBeGreaterThan(0);
      expect(newSeen).toBeLessThan(inserted);
      // Strictly monotonic (time, _id) across the whole walk: nothing repeated, nothing out of order.
      const sign = order === 'asc' ? 1 : -1;
      for (let i = 1; i < keys.length; i += 1) {
        const [t0, k0] = keys[i - 1] as [number, string];
        const [t1, k1] = keys[i] as [number, string];
        const cmp = t1 !== t0 ? Math.sign(t1 - t0) : k1 > k0 ? 1 : -1;
        expect(cmp).toBe(sign);
      }
    },
    WALK_TIMEOUT_MS,
  );
});
