/**
 * The whole system, end to end, as a client sees it: gateway → ingest → Kafka → writer → store
 * primary → replica → query → gateway. Every service is a real process (its built dist), on its
 * own free port, with this test's own topic, consumer group and tenants.
 */
import { randomBytes } from 'node:crypto';
import { SCOPES } from '@splitstream/shared';
import { type System, spawnSystem, testApiKey, uniqueName, waitFor } from '@splitstream/shared/testing';

/** A CloudEvent with a fresh id. */
const cloudEvent = <T>(idPrefix: string, source: string, type: string, subject: string, data: T) => ({
  specversion: '1.0',
  id: uniqueName(idPrefix),
  source,
  type,
  subject,
  data,
});

describe('system: post through the gateway, read your write back through the gateway', () => {
  const tenant = uniqueName('sys');
  const writerKey = testApiKey('sys-rw', tenant, [SCOPES.read, SCOPES.write]);
  const otherKey = testApiKey('sys-other', uniqueName('sys-other'), [SCOPES.read, SCOPES.write]);
  const adminKey = testApiKey('sys-admin', tenant, [SCOPES.read, SCOPES.admin]);
  let system: System;
  /** Until the replay test "fixes" it, the writer stores events of at most this size (bigger ones are dead letters). */
  const SMALL_WRITER_MAX_EVENT_BYTES = 4096;

  const call = (path: string, init: RequestInit & { key?: string } = {}) => system.call(path, init);

  beforeAll(async () => {
    system = await spawnSystem({
      prefix: 'system',
      clientId: 'system-test',
      keys: [writerKey, otherKey, adminKey],
      writer: { WRITER_MAX_EVENT_BYTES: String(SMALL_WRITER_MAX_EVENT_BYTES) },
    });
  }, 90_000);

  afterAll(async () => {
    await system?.stop();
  });

  it('stores a posted event once and serves it to a read that carries the token', async () => {
    const event = cloudEvent('evt', '/system/test', 'com.example.system.checked', 'order-1', { n: 1 });
    const posted = await call('/v1/events', { method: 'POST', body: JSON.stringify(event) });
    expect(posted.status).toBe(202);
    const { id, token } = (await posted.json()) as { id: string; token: string };
    expect(id).toBe(event.id);

    // A client retry of the same event is accepted again and stored as a no-op.
    const retried = await call('/v1/events', { method: 'POST', body: JSON.stringify(event) });
    expect(retried.status).toBe(202);
    const { token: retryToken } = (await retried.json()) as { token: string };

    const read = await call(`/v1/events/${encodeURIComponent(id)}?after=${retryToken}&maxWaitMs=10000`);
    expect(read.status).toBe(200);
    const body = (await read.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ id: event.id, source: event.source, type: event.type, data: { n: 1 } });
    expect(typeof body.time).toBe('string'); // filled by ingest

    const list = await call(`/v1/events?source=${encodeURIComponent(event.source)}&after=${token}`);
    expect(list.status).toBe(200);
    const { items } = (await list.json()) as { items: { id: string }[] };
    expect(items.filter((item) => item.id === event.id)).toHaveLength(1);

    // Another tenant does not see it.
    const foreign = await call(`/v1/events/${encodeURIComponent(id)}`, { key: otherKey.key });
    expect(foreign.status).toBe(404);
  });

  it('accepts a batch and counts it exactly in stats', async () => {
    const type = `com.example.batch.${randomBytes(3).toString('hex')}`;
    const batch = Array.from({ length: 50 }, (_, i) => ({
      specversion: '1.0',
      id: `b-${i}`,
      source: '/system/batch',
      type,
      subject: `s-${i % 5}`,
      time: new Date(Date.UTC(2026, 10, 26, 10, i % 3)).toISOString(),
    }));
    const posted = await call('/v1/events/batch', { method: 'POST', body: JSON.stringify(batch) });
    expect(posted.status).toBe(202);
    const { accepted, token } = (await posted.json()) as { accepted: number; token: string };
    expect(accepted).toBe(50);

    const since = '2026-11-26T10:00:00Z';
    const until = '2026-11-26T11:00:00Z';
    const stats = await call(
      `/v1/stats?by=type&interval=minute&since=${since}&until=${until}&after=${token}`,
    );
    expect(stats.status).toBe(200);
    const { total, groups } = (await stats.json()) as {
      total: number;
      groups: { bucket: string; key: string | null; count: number }[];
    };
    // 50 events over minutes 10:00, 10:01, 10:02 → 17 + 17 + 16, all of one type; the tenant is new.
    expect(total).toBe(50);
    expect(groups.map((g) => [g.bucket.slice(0, 16), g.key, g.count])).toEqual([
      ['2026-11-26T10:00', type, 17],
      ['2026-11-26T10:01', type, 17],
      ['2026-11-26T10:02', type, 16],
    ]);
  });

  it('refuses requests without a key, and services reached directly without the gateway', async () => {
    expect((await fetch(`${system.gateway.url}/v1/events`)).status).toBe(401);
    expect((await fetch(`${system.query.url}/v1/events`)).status).toBe(401);
  });

  // Last: it replaces the writer.
  it('dead-letters an event the writer cannot store, and replays it once the writer is fixed', async () => {
    const big = cloudEvent('big', '/system/replay', 'com.example.system.big', 'order-9', {
      blob: 'x'.repeat(2 * SMALL_WRITER_MAX_EVENT_BYTES),
    });
    const posted = await call('/v1/events', { method: 'POST', body: JSON.stringify(big) });
    expect(posted.status).toBe(202);
    const statusOf = async () =>
      ((await (await call(`/v1/events/${encodeURIComponent(big.id)}/status`)).json()) as { status: string })
        .status;
    // The writer dead-letters a too-large value unparsed: the record has no event id, so neither the
    // status by id nor an `ids` filter finds it; it is in the tenant's list, and replayed by reason.
    const dead = await waitFor(
      async () => {
        const list = await call('/v1/deadletters?limit=10', { key: adminKey.key });
        const { items } = (await list.json()) as { items: { reason: string; value: string }[] };
        return items.find((item) => item.value?.includes(big.id));
      },
      { timeoutMs: 30_000, what: 'the big event dead-lettered' },
    );
    expect(dead.reason).toMatch(/^too-large: /);

    const replay = (body: object, key = adminKey.key) =>
      call('/v1/deadletters/replay', { method: 'POST', key, body: JSON.stringify(body) });
    const filter = { reason: 'too-large' };
    expect((await replay({ filter, dryRun: true }, writerKey.key)).status).toBe(403);
    const dry = await replay({ filter, dryRun: true });
    expect(dry.status).toBe(200);
    expect(await dry.json()).toMatchObject({ matched: 1, replayed: 1, ids: [big.id] });

    // The fix: a writer that stores events of that size, in the same consumer group.
    await system.respawn('writer', system.writerEnv);

    const replayed = await replay({ filter });
    expect(replayed.status).toBe(202);
    const { token, replayed: count } = (await replayed.json()) as { token: string; replayed: number };
    expect(count).toBe(1);
    // The new writer may still be joining the group: a 503 (token not applied in time) is retried.
    const stored = await waitFor(
      async () => {
        const read = await call(`/v1/events/${encodeURIComponent(big.id)}?after=${token}&maxWaitMs=5000`);
        if (read.status === 200) return (await read.json()) as { data: { blob: string } };
        await read.text();
        return undefined;
      },
      { timeoutMs: 60_000, what: 'the replayed event stored' },
    );
    expect(stored.data.blob).toHaveLength(big.data.blob.length);
    expect(await statusOf()).toBe('stored');

    // Asking again does not send it again.
    const again = await replay({ filter });
    expect(await again.json()).toMatchObject({ matched: 0, replayed: 0, alreadyReplayed: 1 });
  });
});
