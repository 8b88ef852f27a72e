/**
 * The gateway in front of real service processes (services/<svc>/dist/server.js on free ports):
 * two ingest, two query and a writer, on this suite's own Kafka topic, real Kafka and store.
 * Routing, balancing, an instance killed under load (ejected, then readmitted), the auth and scope
 * matrix, rate limits, header stripping, direct access without proof refused, request ids end to
 * end and the merged OpenAPI document.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { signPrincipal } from '@splitstream/shared';
import { createTestTopic, removeTestData, testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { request } from 'undici';
import { openApiPath, PUBLIC_ROUTES } from '../src/routes/table';
import {
  bearer,
  type ChildService,
  makeKeys,
  metricValue,
  type RunningGateway,
  SECRET,
  SERVICE_SCRIPT,
  spawnService,
  startGateway,
  startServices,
  type TestKey,
  urlsOf,
} from './support';

const tenant = uniqueName('gw-acme');
const otherTenant = uniqueName('gw-globex');
const { keys, json } = makeKeys(tenant, otherTenant);

const event = (id = uniqueName('ev'), extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id,
  source: '/gateway/test',
  type: 'com.example.gateway.tested',
  subject: 'order-1',
  ...extra,
});

interface Accepted {
  id: string;
  token: string;
}

describe('gateway in front of real ingest, query and writer processes', () => {
  let admin: Admin;
  let topic: string;
  let deadLetterTopic: string;
  let services: ChildService[] = [];
  let writer: ChildService | undefined;
  let gateway: RunningGateway;
  const byName = (name: string) => services.find((s) => s.name === name) as ChildService;

  beforeAll(async () => {
    admin = new Kafka({ brokers: testInfra().brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    topic = await createTestTopic(admin, 'gateway-events');
    deadLetterTopic = await createTestTopic(admin, 'gateway-dlq', 1);
    // info level on the services: the request-id test reads their log lines.
    services = await startServices({ ingest: 2, query: 2, topic, env: { LOG_LEVEL: 'info' } });
    writer = await spawnService('writer', SERVICE_SCRIPT('writer'), {
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
      KAFKA_GROUP_ID: uniqueName('gateway-writer'),
    });
    gateway = await startGateway({
      API_KEYS: json,
      INGEST_UPSTREAMS: urlsOf(services, 'ingest'),
      QUERY_UPSTREAMS: urlsOf(services, 'query'),
    });
    await waitFor(async () => (await fetch(`${gateway.url}/readyz`)).ok, { what: 'gateway ready' });
  }, 120_000);

  afterAll(async () => {
    await gateway?.close();
    await Promise.all([...services, ...(writer ? [writer] : [])].map((s) => s.kill()));
    if (topic) await admin.deleteTopics({ topics: [topic, deadLetterTopic] }).catch(() => undefined);
    await admin?.disconnect();
    await removeTestData(testInfra().writeUri, { tenants: [tenant, otherTenant], topics: [topic] });
  });

  const post = async (
    key: TestKey,
    body: unknown,
    path = '/v1/events',
    headers: Record<string, string> = {},
  ) =>
    request(`${gateway.url}${path}`, {
      method: 'POST',
      headers: { ...bearer(key), 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const get = (key: TestKey, path: string, headers: Record<string, string> = {}) =>
    request(`${gateway.url}${path}`, { headers: { ...bearer(key), ...headers } });

  it('routes writes to ingest and reads to query, read-your-writes included', async () => {
    const one = await post(keys.readWrite, event());
    expect(one.statusCode).toBe(202);
    const accepted = (await one.body.json()) as Accepted;
    const batchIds = [uniqueName('b'), uniqueName('b')];
    const batch = await post(
      keys.readWrite,
      batchIds.map((id) => event(id)),
      '/v1/events/batch',
    );
    expect(batch.statusCode).toBe(202);
    const batchAccepted = (await batch.body.json()) as { accepted: number; ids: string[]; token: string };
    expect(batchAccepted.accepted).toBe(2);

    const read = await get(
      keys.readOnly,
      `/v1/events/${encodeURIComponent(accepted.id)}?after=${accepted.token}&maxWaitMs=10000`,
    );
    expect(read.statusCode).toBe(200);
    expect(await read.body.json()).toMatchObject({ id: accepted.id, source: '/gateway/test' });

    const list = await get(keys.readOnly, `/v1/events?limit=10&after=${batchAccepted.token}&maxWaitMs=10000`);
    expect(list.statusCode).toBe(200);
    const ids = ((await list.body.json()) as { items: { id: string }[] }).items.map((i) => i.id);
    expect(ids).toEqual(expect.arrayContaining([accepted.id, ...batchIds]));

    const status = await get(keys.readOnly, `/v1/events/${encodeURIComponent(accepted.id)}/status`);
    expect(status.statusCode).toBe(200);
    expect(await status.body.json()).toMatchObject({ status: 'stored' });

    const since = new Date(Date.now() - 3_600_000).toISOString();
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const stats = await get(keys.readOnly, `/v1/stats?by=type&interval=hour&since=${since}&until=${until}`);
    expect(stats.statusCode).toBe(200);
    await stats.body.dump();
    const deadletters = await get(keys.readOnly, '/v1/deadletters');
    expect(deadletters.statusCode).toBe(200);
    await deadletters.body.dump();

    // Another tenant never sees it.
    const foreign = await get(keys.other, `/v1/events/${encodeURIComponent(accepted.id)}`);
    expect(foreign.statusCode).toBe(404);
    await foreign.body.dump();
  });

  it('propagates the request id to the service that handled the request', async () => {
    const requestId = uniqueName('rid');
    const response = await post(keys.readWrite, event(), '/v1/events', { 'x-request-id': requestId });
    expect(response.statusCode).toBe(202);
    expect(response.headers['x-request-id']).toBe(requestId);
    await response.body.dump();
    await waitFor(
      () =>
        services.some(
          (s) => s.name.startsWith('ingest') && s.output().includes(`"requestId":"${requestId}"`),
        ),
      { what: 'the request id in an ingest log line' },
    );
  });

  it('balances across the two instances of each service', async () => {
    const count = (instance: string) =>
      metricValue(gateway.url, 'gateway_upstream_requests_total', { instance, outcome: '2xx' });
    const before = await Promise.all(services.map((s) => count(s.url)));
    for (let i = 0; i < 20; i++) {
      const write = await post(keys.readWrite, event());
      const read = await get(keys.readOnly, '/v1/events?limit=1');
      expect([write.statusCode, read.statusCode]).toEqual([202, 200]);
      await Promise.all([write.body.dump(), read.body.dump()]);
    }
    const after = await Promise.all(services.map((s) => count(s.url)));
    const served = Object.fromEntries(services.map((s, i) => [s.name, (after[i] ?? 0) - (before[i] ?? 0)]));
    // Sequential requests: least-pending ties go round robin, so the split is even.
    expect(served).toEqual({ 'ingest-1': 10, 'ingest-2': 10, 'query-1': 10, 'query-2': 10 });
  });

  it('survives an instance of each service killed under load: only requests in flight on it fail', async () => {
    const [victimWrite, victimRead] = [byName('ingest-2'), byName('query-2')];
    const results: { kind: 'write' | 'read'; startedAt: number; status: number }[] = [];
    let stop = false;
    const loop = async (kind: 'write' | 'read') => {
      while (!stop) {
        const startedAt = Date.now();
        let status: number;
        try {
          const response =
            kind === 'write'
              ? await post(keys.readWrite, event())
              : await get(keys.readOnly, '/v1/events?limit=5');
          status = response.statusCode;
          await response.body.dump();
        } catch {
          status = 0;
        }
        results.push({ kind, startedAt, status });
      }
    };
    const CONCURRENCY = 4;
    const load = Promise.all([
      ...Array.from({ length: CONCURRENCY }, () => loop('write')),
      ...Array.from({ length: CONCURRENCY }, () => loop('read')),
    ]);
    await waitFor(() => results.length > 50, { what: 'load running' });
    await Promise.all([victimWrite.kill('SIGKILL'), victimRead.kill('SIGKILL')]);
    const goneAt = Date.now();
    const available = (url: string) =>
      metricValue(gateway.url, 'gateway_upstream_available', { instance: url });
    await waitFor(
      async () => (await available(victimWrite.url)) === 0 && (await available(victimRead.url)) === 0,
      {
        what: 'both victims ejected',
      },
    );
    await waitFor(() => results.filter((r) => r.startedAt > goneAt).length > 100, {
      what: 'load after the kill',
    });
    stop = true;
    await load;

    const failures = results.filter((r) => r.status !== (r.kind === 'write' ? 202 : 200));
    // A write in flight on the killed ingest may fail (502: never replayed, it may have been
    // accepted); reads are replayed on the other instance, so none fails. Nothing sent after fails.
    expect(failures.every((f) => f.kind === 'write' && f.status === 502 && f.startedAt <= goneAt)).toBe(true);
    expect(failures.length).toBeLessThanOrEqual(CONCURRENCY);
    expect(results.filter((r) => r.startedAt > goneAt).length).toBeGreaterThan(100);

    // Readmitted once it answers its health check again (same port).
    const restarted = await Promise.all([
      spawnService('ingest-2', SERVICE_SCRIPT('ingest'), { KAFKA_TOPIC: topic }, { port: victimWrite.port }),
      spawnService('query-2', SERVICE_SCRIPT('query'), { KAFKA_TOPIC: topic }, { port: victimRead.port }),
    ]);
    services = [...services.filter((s) => s !== victimWrite && s !== victimRead), ...restarted];
    await waitFor(
      async () => (await available(victimWrite.url)) === 1 && (await available(victimRead.url)) === 1,
      {
        what: 'both readmitted',
      },
    );
    const readmissions = await metricValue(gateway.url, 'gateway_upstream_readmissions_total', {});
    expect(readmissions).toBeGreaterThanOrEqual(2);
    const servedBefore = await metricValue(gateway.url, 'gateway_upstream_requests_total', {
      instance: victimWrite.url,
      outcome: '2xx',
    });
    for (let i = 0; i < 4; i++) {
      const response = await post(keys.readWrite, event());
      expect(response.statusCode).toBe(202);
      await response.body.dump();
    }
    expect(
      await metricValue(gateway.url, 'gateway_upstream_requests_total', {
        instance: victimWrite.url,
        outcome: '2xx',
      }),
    ).toBeGreaterThan(servedBefore);
  });

  it('enforces the auth and scope matrix on every public route', async () => {
    const THROUGH = 0; // reaches the service: whatever it answers, it is not an auth refusal
    const seen: { route: string; key: string; status: number }[] = [];
    // A key passes exactly when it holds the route's scope (no scope implies another).
    const bodyOf = (path: string) =>
      path.endsWith('batch') ? [event()] : path.endsWith('replay') ? { dryRun: true } : event();
    for (const route of PUBLIC_ROUTES) {
      const path = route.url.replace(':id', 'some-id');
      const write = route.method === 'POST';
      const cases: [string, TestKey | undefined, number][] = [
        ['none', undefined, 401],
        ...(
          [
            ['read-only', keys.readOnly],
            ['write-only', keys.writeOnly],
            ['read-write', keys.readWrite],
            ['admin', keys.admin],
          ] as const
        ).map(([name, key]): [string, TestKey, number] => [
          name,
          key,
          key.scopes.includes(route.scope) ? THROUGH : 403,
        ]),
      ];
      for (const [name, key, expected] of cases) {
        const response = await request(`${gateway.url}${path}`, {
          method: route.method,
          headers: { ...(key ? bearer(key) : {}), 'content-type': 'application/json' },
          ...(write ? { body: JSON.stringify(bodyOf(path)) } : {}),
        });
        const body = await response.body.text();
        seen.push({ route: `${route.method} ${path}`, key: name, status: response.statusCode });
        if (expected === THROUGH) {
          expect([401, 403]).not.toContain(response.statusCode);
          expect(response.statusCode).toBeLessThan(500);
        } else {
          expect(response.statusCode).toBe(expected);
          expect(response.headers['content-type']).toContain('application/problem+json');
          expect(JSON.parse(body).status).toBe(expected);
        }
      }
    }
    expect(seen).toHaveLength(PUBLIC_ROUTES.length * 5);
    // The admin route is reached with the admin key: ingest answered the dry run itself.
    expect(seen).toContainEqual({ route: 'POST /v1/deadletters/replay', key: 'admin', status: 200 });
  });

  it('rate-limits per API key: 429 with Retry-After and RateLimit headers', async () => {
    const limit = keys.limited.rateLimit as number;
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i <= limit; i++) {
      last = await get(keys.limited, '/v1/events?limit=1');
      statuses.push(last.statusCode);
      if (i < limit) await last.body.dump();
    }
    expect(statuses).toEqual([...Array(limit).fill(200), 429]);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(last?.headers['ratelimit-limit']).toBe(String(limit));
    expect(last?.headers['ratelimit-remaining']).toBe('0');
    expect(await last?.body.json()).toMatchObject({ status: 429 });
    const unaffected = await get(keys.readOnly, '/v1/events?limit=1');
    expect(unaffected.statusCode).toBe(200);
    await unaffected.body.dump();
  });

  it('ignores client-sent internal headers: a forged tenant does not move the write', async () => {
    const forged = signPrincipal('not-the-secret-but-long-enough', {
      tenant: otherTenant,
      scopes: ['events:admin'],
    });
    const id = uniqueName('forged');
    const response = await post(keys.readWrite, event(id), '/v1/events', forged);
    expect(response.statusCode).toBe(202);
    const { token } = (await response.body.json()) as Accepted;
    const own = await get(keys.readOnly, `/v1/events/${id}?after=${token}&maxWaitMs=10000`);
    expect(own.statusCode).toBe(200);
    expect(await own.body.json()).toMatchObject({ id, source: '/gateway/test' });
    const other = await get(keys.other, `/v1/events/${id}?after=${token}&maxWaitMs=10000`);
    expect(other.statusCode).toBe(404);
    await other.body.dump();
  });

  it('a service reached directly without valid proof refuses', async () => {
    const ingest = byName('ingest-1');
    const query = byName('query-1');
    const attempts = [
      { name: 'no proof', headers: {} },
      { name: 'a client key', headers: bearer(keys.readWrite) },
      {
        name: 'a bare tenant header',
        headers: { 'x-splitstream-tenant': tenant, 'x-splitstream-scopes': 'events:write' },
      },
      {
        name: 'a wrong secret',
        headers: signPrincipal('some-other-secret-value', { tenant, scopes: ['events:write'] }),
      },
      {
        name: 'an expired proof',
        headers: signPrincipal(
          SECRET,
          { tenant, scopes: ['events:write', 'events:read'] },
          Date.now() - 10 * 60_000,
        ),
      },
    ];
    for (const attempt of attempts) {
      const write = await request(`${ingest.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...attempt.headers },
        body: JSON.stringify(event()),
      });
      const read = await request(`${query.url}/v1/events`, { headers: attempt.headers });
      expect({ attempt: attempt.name, write: write.statusCode, read: read.statusCode }).toEqual({
        attempt: attempt.name,
        write: 401,
        read: 401,
      });
      await Promise.all([write.body.dump(), read.body.dump()]);
    }
    // The same request with the gateway's proof goes through.
    const proof = signPrincipal(SECRET, { tenant, scopes: ['events:write', 'events:read'] });
    const direct = await request(`${ingest.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...proof },
      body: JSON.stringify(event()),
    });
    expect(direct.statusCode).toBe(202);
    await direct.body.dump();
  });

  it('serves one valid OpenAPI document merged from the services, with every public operation', async () => {
    const response = await fetch(`${gateway.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security: unknown }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
    expect(Object.keys(document.components.securitySchemes)).toEqual(['bearerAuth', 'apiKeyAuth']);
    for (const route of PUBLIC_ROUTES) {
      const operation = document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      expect({ route: route.url, method: route.method, found: Boolean(operation) }).toMatchObject({
        found: true,
      });
      for (const status of ['401', '403', '429', '503']) expect(operation?.responses[status]).toBeDefined();
      expect(operation?.security).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }]);
    }
    // Nothing the services serve outside the public API leaks into it.
    expect(Object.keys(document.paths).every((p) => p.startsWith('/v1/'))).toBe(true);
    const docs = await fetch(`${gateway.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });
});
