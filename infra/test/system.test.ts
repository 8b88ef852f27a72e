/**
 * The whole system, end to end, as a client sees it: gateway → ingest → Kafka → writer → store
 * primary → replica → query → gateway. Every service is a real process (its built dist), on its
 * own free port, with this test's own topic, consumer group and tenants.
 */
import { createHash, randomBytes } from 'node:crypto';
import { SCOPES } from '@splitstream/shared';
import {
  type ChildService,
  createTestTopic,
  removeTestData,
  SERVICE_SCRIPT,
  spawnService,
  testInfra,
  uniqueName,
  waitFor,
} from '@splitstream/shared/testing';
import { type Admin, Kafka, logLevel } from 'kafkajs';

const infra = testInfra();
const SECRET = `system-test-${randomBytes(8).toString('hex')}`;

function apiKey(id: string, tenant: string, scopes: string[]) {
  const key = `sk_test_${randomBytes(16).toString('hex')}`;
  return { key, record: { id, hash: createHash('sha256').update(key).digest('hex'), tenant, scopes } };
}

describe('system: post through the gateway, read your write back through the gateway', () => {
  const tenant = uniqueName('sys');
  const writerKey = apiKey('sys-rw', tenant, [SCOPES.read, SCOPES.write]);
  const otherKey = apiKey('sys-other', uniqueName('sys-other'), [SCOPES.read, SCOPES.write]);
  const adminKey = apiKey('sys-admin', tenant, [SCOPES.read, SCOPES.admin]);
  let services: ChildService[] = [];
  let admin: Admin;
  let topic: string;
  let deadLetterTopic: string;
  let gateway: ChildService;
  let writerEnv: Record<string, string>;
  /** Until the replay test "fixes" it, the writer stores events of at most this size (bigger ones are dead letters). */
  const SMALL_WRITER_MAX_EVENT_BYTES = 4096;

  const call = (path: string, init: RequestInit & { key?: string } = {}) =>
    fetch(`${gateway.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${init.key ?? writerKey.key}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
    });

  beforeAll(async () => {
    admin = new Kafka({
      clientId: 'system-test',
      brokers: infra.brokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    topic = await createTestTopic(admin, 'system-events', 3);
    deadLetterTopic = await createTestTopic(admin, 'system-dlq', 1);
    const env = {
      INTERNAL_AUTH_SECRET: SECRET,
      KAFKA_BROKERS: infra.brokers.join(','),
      KAFKA_TOPIC: topic,
      MONGO_WRITE_URI: infra.writeUri,
      MONGO_READ_URI: infra.readUri,
    };
    writerEnv = {
      ...env,
      KAFKA_GROUP_ID: uniqueName('system-writer'),
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
    };
    const [writer, ingest, query] = await Promise.all([
      spawnService('writer', SERVICE_SCRIPT('writer'), {
        ...writerEnv,
        WRITER_MAX_EVENT_BYTES: String(SMALL_WRITER_MAX_EVENT_BYTES),
      }),
      spawnService('ingest', SERVICE_SCRIPT('ingest'), env),
      spawnService('query', SERVICE_SCRIPT('query'), env),
    ]);
    services.push(writer, ingest, query);
    gateway = await spawnService('gateway', SERVICE_SCRIPT('gateway'), {
      ...env,
      INGEST_UPSTREAMS: ingest.url,
      QUERY_UPSTREAMS: query.url,
      API_KEYS: JSON.stringify([writerKey.record, otherKey.record, adminKey.record]),
    });
    services.push(gateway);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(services.map((s) => s.kill('SIGTERM')));
    await admin.deleteTopics({ topics: [topic, deadLetterTopic] }).catch(() => undefined);
    await admin.disconnect();
    await removeTestData(infra.writeUri, { tenants: [tenant, otherKey.record.tenant], topics: [topic] });
  });

  it('stores a posted event once and serves it to a read that carries the token', async () => {
    const event = {
      specversion: '1.0',
      id: uniqueName('evt'),
      source: '/system/test',
      type: 'com.example.system.checked',
      subject: 'order-1',
      data: { n: 1 },
    };
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
    expect((await fetch(`${gateway.url}/v1/events`)).status).toBe(401);
    const query = services.find((s) => s.name === 'query');
    expect((await fetch(`${query?.url}/v1/events`)).status).toBe(401);
  });

  // Last: it replaces the writer.
  it('dead-letters an event the writer cannot store, and replays it once the writer is fixed', async () => {
    const big = {
      specversion: '1.0',
      id: uniqueName('big'),
      source: '/system/replay',
      type: 'com.example.system.big',
      subject: 'order-9',
      data: { blob: 'x'.repeat(2 * SMALL_WRITER_MAX_EVENT_BYTES) },
    };
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
    const old = services.find((s) => s.name === 'writer') as ChildService;
    await old.kill('SIGTERM');
    const fixed = await spawnService('writer', SERVICE_SCRIPT('writer'), writerEnv);
    services = [...services.filter((s) => s !== old), fixed];

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
