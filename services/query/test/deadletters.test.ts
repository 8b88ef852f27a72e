import { type DeadLetterRecord, deadLetterId, STORE } from '@splitstream/shared';
import { uniqueName, waitFor } from '@splitstream/shared/testing';
import { Binary } from 'mongodb';
import { newTenant, seed, storedEvents, useQuerySuite } from './helpers';

describe('dead letters and event status', () => {
  const tenant = newTenant();
  const other = newTenant();
  const topic = uniqueName('qtopic');
  const base = Date.UTC(2026, 7, 1);

  const record = (i: number, overrides: Partial<DeadLetterRecord> = {}): DeadLetterRecord => ({
    _id: deadLetterId(topic, i % 3, String(i)),
    tenant,
    id: `dl-${i}`,
    source: '/shop',
    type: 'order.created',
    reason: `too-large: event ${i} exceeds the store limit`,
    // two share a time: the _id breaks the tie
    deadLetteredAt: new Date(base + Math.min(i, 3) * 1000),
    topic,
    partition: i % 3,
    offset: String(i),
    key: `${tenant}/o-${i}`,
    headers: { 'content-type': 'application/cloudevents+json', 'splitstream-tenant': tenant },
    value: `{"id":"dl-${i}"}`,
    ...overrides,
  });

  const suite = useQuerySuite({
    tenants: [tenant, other],
    fixtures: async (store) => {
      const records = [
        ...Array.from({ length: 5 }, (_, i) => record(i)),
        record(10, { tenant: other, id: 'theirs' }),
        record(11, { reason: 'missing-tenant: no header' }),
        record(16, {
          id: 'was-replayed',
          replayedAt: new Date(base + 30_000),
          replayedTo: { topic: 'events', partition: 2, offset: '77' },
        }),
        // stored later after a replay: "stored" wins
        record(12, { id: 'replayed', reason: 'rejected-by-store: transient' }),
        // an older and a newer dead letter of the same event: the newest reason is reported
        record(13, { id: 'twice', reason: 'first reason', deadLetteredAt: new Date(base + 10_000) }),
        record(14, { id: 'twice', reason: 'latest reason', deadLetteredAt: new Date(base + 20_000) }),
        record(15, {
          id: 'bytes',
          key: null,
          value: new Binary(Buffer.from([0xff, 0x00])) as unknown as string,
        }),
      ];
      // The writer omits what it could not read: here the tenant header and the event.
      for (const field of ['tenant', 'id', 'source', 'type'] as const)
        delete (records[6] as Partial<DeadLetterRecord>)[field];
      await store.write.collection<DeadLetterRecord>(STORE.collections.deadLetters).insertMany(records);
      await waitFor(
        async () =>
          (await store.read.collection(STORE.collections.deadLetters).countDocuments({ topic })) ===
          records.length,
        { what: 'dead letters replicated' },
      );
      await seed(
        store,
        storedEvents(tenant, [{ id: 'replayed', source: '/shop', time: '2026-08-01T00:00:00Z' }]),
      );
    },
    teardown: async (store) => {
      await store.write.collection(STORE.collections.deadLetters).deleteMany({ topic });
    },
  });
  const { get } = suite;

  it('says when a dead letter was replayed and where the copy went', async () => {
    const res = await get('/v1/deadletters?limit=1000');
    const items = res.json().items as Record<string, unknown>[];
    expect(items.find((i) => i.id === 'was-replayed')).toMatchObject({
      replayedAt: new Date(base + 30_000).toISOString(),
      replayedTo: { topic: 'events', partition: 2, offset: '77' },
    });
    expect(items.find((i) => i.id === 'dl-0')).not.toHaveProperty('replayedAt');
  });

  it('lists only the tenant’s dead letters, newest first, in pages', async () => {
    const seen: { id: string; deadLetteredAt: string }[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/deadletters?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      seen.push(...res.json().items);
      cursor = res.json().nextCursor;
    } while (cursor);
    expect(seen.map((d) => d.id)).toEqual(
      // by deadLetteredAt desc, then _id (`topic/partition/offset`) desc among equal times
      ['twice', 'twice', 'dl-4', 'was-replayed', 'dl-3', 'bytes', 'replayed', 'dl-2', 'dl-1', 'dl-0'],
    );
    expect(seen).toHaveLength(10);
    expect(seen.find((d) => d.id === 'dl-4')).toEqual({
      id: 'dl-4',
      source: '/shop',
      type: 'order.created',
      reason: 'too-large: event 4 exceeds the store limit',
      deadLetteredAt: new Date(base + 3000).toISOString(),
      topic,
      partition: 1,
      offset: '4',
      key: `${tenant}/o-4`,
      headers: { 'content-type': 'application/cloudevents+json', 'splitstream-tenant': tenant },
      value: '{"id":"dl-4"}',
    });
    expect(seen.find((d) => d.id === 'bytes')).toMatchObject({
      key: null,
      value: Buffer.from([0xff, 0x00]).toString('base64'),
    });
    const theirs = await get('/v1/deadletters', other);
    expect(theirs.json().items.map((d: { id: string }) => d.id)).toEqual(['theirs']);
  });

  it('filters by dead-letter time and pages in ascending order', async () => {
    const res = await get(
      `/v1/deadletters?order=asc&since=${new Date(base + 1000).toISOString()}&until=${new Date(base + 3000).toISOString()}`,
    );
    expect(res.json().items.map((d: { id: string }) => d.id)).toEqual(['dl-1', 'dl-2']);
  });

  it('answers dead-lettered with the newest reason, stored after a replay, unknown otherwise', async () => {
    expect((await get('/v1/events/dl-3/status')).json()).toEqual({
      id: 'dl-3',
      status: 'dead-lettered',
      source: '/shop',
      reason: 'too-large: event 3 exceeds the store limit',
      deadLetteredAt: new Date(base + 3000).toISOString(),
    });
    expect((await get('/v1/events/twice/status')).json()).toMatchObject({
      status: 'dead-lettered',
      reason: 'latest reason',
    });
    expect((await get('/v1/events/replayed/status')).json()).toMatchObject({
      status: 'stored',
      source: '/shop',
    });
    expect((await get('/v1/events/dl-3/status?source=/other')).json()).toEqual({
      id: 'dl-3',
      status: 'unknown',
      source: '/other',
    });
    expect((await get('/v1/events/theirs/status')).json().status).toBe('unknown');
    expect((await get('/v1/events/dl-3')).statusCode).toBe(404);
  });
});
