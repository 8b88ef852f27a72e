import { STORE, type StoredEvent } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import type { QueryConfig } from '../src/config';
import {
  buildApp,
  newTenant,
  openStore,
  principal,
  removeFixtures,
  type Store,
  seed,
  storedEvents,
} from './helpers';

const EXISTING = 2_500;
const PAGE = 100;
const BASE = Date.UTC(2026, 4, 1);

describe('keyset pagination under concurrent inserts', () => {
  let store: Store;
  let server: FastifyInstance;
  let config: QueryConfig;
  const tenant = newTenant();

  beforeAll(async () => {
    store = await openStore();
    ({ server, config } = await buildApp());
    // Three events per second: equal times make the _id tie-break part of every page boundary.
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
  });

  afterAll(async () => {
    await server?.close();
    await removeFixtures(store, [tenant]);
    await store?.close();
  });

  it.each([
    'asc',
    'desc',
  ])('walks %s all 2,500 events in pages of 100 with no gap or repeat while new ones are inserted', async (order) => {
    // New events keep arriving during the walk, at times spread over the whole range (some land
    // before the cursor, some after it), including times equal to existing ones.
    let inserting = true;
    let inserted = 0;
    const writer = (async () => {
      while (inserting) {
        const batch = Array.from({ length: 5 }, (_, i) => ({
          id: `new-${order}-${inserted + i}`,
          time: new Date(BASE + Math.floor(Math.random() * (EXISTING / 3)) * 1000),
        }));
        await store.write
          .collection<StoredEvent>(STORE.collections.events)
          .insertMany(storedEvents(tenant, batch));
        inserted += batch.length;
        // Slower than the walk reads, or a walk towards a range that keeps growing would never end.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    const seen = new Map<string, number>();
    const keys: [number, string][] = [];
    let cursor: string | null = null;
    let pages = 0;
    try {
      do {
        const res = await server.inject({
          url: `/v1/events?limit=${PAGE}&order=${order}${cursor ? `&cursor=${cursor}` : ''}`,
          headers: principal(tenant, config),
        });
        expect(res.statusCode).toBe(200);
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
    } finally {
      inserting = false;
      await writer;
    }

    expect(inserted).toBeGreaterThan(0);
    for (let i = 0; i < EXISTING; i += 1) expect(seen.get(`old-${i}`)).toBe(1);
    expect([...seen.values()].every((count) => count === 1)).toBe(true);
    expect(pages).toBeGreaterThanOrEqual(EXISTING / PAGE);
    // Strictly monotonic (time, _id) across the whole walk: nothing repeated, nothing out of order.
    const sign = order === 'asc' ? 1 : -1;
    for (let i = 1; i < keys.length; i += 1) {
      const [t0, k0] = keys[i - 1] as [number, string];
      const [t1, k1] = keys[i] as [number, string];
      const cmp = t1 !== t0 ? Math.sign(t1 - t0) : k1 > k0 ? 1 : -1;
      expect(cmp).toBe(sign);
    }
  }, 120_000); // Each page costs the local store a scan of the tenant's events (FerretDB sorts in memory).
});
