import { type AddressInfo, createServer, type Socket } from 'node:net';
import { encodeToken } from '@splitstream/shared';
import { startStoreWithoutBackend, TcpProxy, uniqueName, waitFor } from '@splitstream/shared/testing';
import {
  buildApp,
  infra,
  newTenant,
  principal,
  seed,
  setCheckpoints,
  storedEvents,
  useQuerySuite,
} from './helpers';

const portOf = (uri: string) => Number(new URL(uri).port);
const uriThrough = (proxy: TcpProxy) =>
  `mongodb://127.0.0.1:${proxy.port}/?directConnection=true&retryWrites=false`;

/**
 * Each store endpoint behind a TCP proxy this suite owns: cutting a proxy is a stopped endpoint for
 * this app only, the shared store keeps running for everyone else.
 */
describe('store endpoint failures', () => {
  let replicaProxy: TcpProxy;
  let primaryProxy: TcpProxy;
  const tenant = newTenant();
  const topic = uniqueName('qtopic');

  const cutProxies = new Set<TcpProxy>();
  const cut = async (proxy: TcpProxy) => {
    cutProxies.add(proxy);
    await proxy.cut();
  };
  const read = (url = '/v1/events/e1') =>
    suite.server.inject({ url, headers: principal(tenant, suite.config) });
  const metric = async (pattern: RegExp) =>
    Number((await suite.server.inject('/metrics')).body.match(pattern)?.[1] ?? 0);

  const suite = useQuerySuite({
    tenants: [tenant],
    topics: [topic],
    env: async () => {
      replicaProxy = await new TcpProxy('127.0.0.1', portOf(infra.readUri)).start();
      primaryProxy = await new TcpProxy('127.0.0.1', portOf(infra.writeUri)).start();
      return {
        MONGO_READ_URI: uriThrough(replicaProxy),
        MONGO_WRITE_URI: uriThrough(primaryProxy),
        KAFKA_TOPIC: topic,
        STORE_HEARTBEAT_MS: '500',
        REPLICA_SELECTION_TIMEOUT_MS: '500',
        PRIMARY_SELECTION_TIMEOUT_MS: '500',
      };
    },
    fixtures: async (store) => {
      await seed(store, storedEvents(tenant, [{ id: 'e1', time: '2026-06-01T00:00:00Z' }], topic));
      await setCheckpoints(store, topic, { 0: '7' });
    },
    teardown: async () => {
      await replicaProxy?.stop();
      await primaryProxy?.stop();
    },
  });

  afterEach(async () => {
    // Each test leaves both endpoints up and back in use.
    for (const proxy of cutProxies) await proxy.restore();
    cutProxies.clear();
    await waitFor(async () => (await read()).headers['splitstream-served-by'] === 'replica', {
      what: 'reads back on the replica',
    });
  });

  it('reads from the replica while it is up', async () => {
    const res = await read();
    expect(res.statusCode).toBe(200);
    expect(res.headers['splitstream-served-by']).toBe('replica');
  });

  it('falls back to the primary when the replica endpoint stops, and returns when it is back', async () => {
    await cut(replicaProxy);
    const started = Date.now();
    const first = await read();
    expect(first.statusCode).toBe(200);
    expect(first.json().id).toBe('e1');
    expect(first.headers['splitstream-served-by']).toBe('primary');
    expect(first.headers['splitstream-applied-time']).toBeDefined();
    expect(Date.now() - started).toBeLessThan(3_000);

    // Once the replica is known down, reads go straight to the primary.
    const t0 = Date.now();
    for (const url of ['/v1/events', '/v1/events/e1/status', '/v1/deadletters']) {
      const res = await read(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['splitstream-served-by']).toBe('primary');
    }
    expect(Date.now() - t0).toBeLessThan(1_500);

    // A consistency token is checked against the endpoint that serves the read: the primary.
    const withToken = await read(`/v1/events/e1?after=${encodeToken({ topic, offsets: { '0': '7' } })}`);
    expect(withToken.statusCode).toBe(200);
    expect(withToken.headers['splitstream-served-by']).toBe('primary');

    expect((await suite.server.inject('/readyz')).statusCode).toBe(200);
    expect(await metric(/query_store_endpoint_up\{endpoint="replica",service="query"\} (\d+)/)).toBe(0);
    expect(
      await metric(
        /query_read_duration_seconds_count\{service="query",route="\/v1\/events\/:id",served_by="primary"\} (\d+)/,
      ),
    ).toBeGreaterThanOrEqual(2);

    await replicaProxy.restore();
    cutProxies.delete(replicaProxy);
    await waitFor(async () => (await read()).headers['splitstream-served-by'] === 'replica', {
      what: 'reads back on the replica',
      timeoutMs: 10_000,
    });
    expect(await metric(/query_store_endpoint_up\{endpoint="replica",service="query"\} (\d+)/)).toBe(1);
  });

  it('keeps reading from the replica when the primary endpoint stops', async () => {
    await cut(primaryProxy);
    for (const url of [
      '/v1/events/e1',
      '/v1/events',
      '/v1/stats?since=2026-06-01T00:00:00Z&until=2026-06-02T00:00:00Z',
    ]) {
      const res = await read(url);
      expect(res.statusCode).toBe(200);
      expect(res.headers['splitstream-served-by']).toBe('replica');
    }
    expect((await read('/v1/stats?since=2026-06-01T00:00:00Z&until=2026-06-02T00:00:00Z')).json().total).toBe(
      1,
    );
    expect((await suite.server.inject('/readyz')).statusCode).toBe(200);
  });

  it('starts while the replica endpoint is down, serves from the primary, and connects when it comes up', async () => {
    const lateProxy = await new TcpProxy('127.0.0.1', portOf(infra.readUri)).start();
    await lateProxy.cut();
    const late = await buildApp({
      MONGO_READ_URI: uriThrough(lateProxy),
      MONGO_WRITE_URI: infra.writeUri,
      KAFKA_TOPIC: topic,
      STORE_HEARTBEAT_MS: '500',
      REPLICA_SELECTION_TIMEOUT_MS: '500',
    });
    const lateRead = () =>
      late.server.inject({ url: '/v1/events/e1', headers: principal(tenant, late.config) });
    try {
      expect((await late.server.inject('/readyz')).statusCode).toBe(200);
      const res = await lateRead();
      expect(res.statusCode).toBe(200);
      expect(res.headers['splitstream-served-by']).toBe('primary');
      await lateProxy.restore();
      await waitFor(async () => (await lateRead()).headers['splitstream-served-by'] === 'replica', {
        what: 'the late replica in use',
        timeoutMs: 10_000,
      });
    } finally {
      await late.server.close();
      await lateProxy.stop();
    }
  });

  it('stays ready from the replica when the primary endpoint hangs (accepts, never answers)', async () => {
    const sockets = new Set<Socket>();
    const blackhole = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const hung = await buildApp({
      MONGO_READ_URI: infra.readUri,
      MONGO_WRITE_URI: `mongodb://127.0.0.1:${(blackhole.address() as AddressInfo).port}/?directConnection=true`,
      KAFKA_TOPIC: topic,
    });
    try {
      const started = Date.now();
      const ready = await hung.server.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks.store).toMatch(/^primary cannot read/);
      expect(Date.now() - started).toBeLessThan(1_500);
    } finally {
      await hung.server.close();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => blackhole.close(resolve));
    }
  });

  it('falls back to the primary when the replica answers but its backend is gone, and says so in /readyz', async () => {
    const deadReplica = await startStoreWithoutBackend();
    const cutPrimary = await new TcpProxy('127.0.0.1', portOf(infra.writeUri)).start();
    const degraded = await buildApp({
      MONGO_READ_URI: deadReplica.uri,
      MONGO_WRITE_URI: uriThrough(cutPrimary),
      KAFKA_TOPIC: topic,
      STORE_HEARTBEAT_MS: '500',
      REPLICA_SELECTION_TIMEOUT_MS: '500',
      PRIMARY_SELECTION_TIMEOUT_MS: '500',
    });
    const degradedRead = (url = '/v1/events/e1') =>
      degraded.server.inject({ url, headers: principal(tenant, degraded.config) });
    try {
      for (const url of ['/v1/events/e1', '/v1/events', '/v1/events/e1/status']) {
        const res = await degradedRead(url);
        expect(res.statusCode).toBe(200);
        expect(res.headers['splitstream-served-by']).toBe('primary');
      }
      const ready = await degraded.server.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks.store).toMatch(/^replica cannot read \(.*failed to connect/);

      // With the primary gone too, nothing can serve: 503 with Retry-After, never a 500.
      await cutPrimary.cut();
      const refused = await degradedRead();
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(JSON.stringify(refused.json())).not.toMatch(/postgres|Mongo/);
      expect((await degraded.server.inject('/readyz')).statusCode).toBe(503);
    } finally {
      await degraded.server.close();
      await cutPrimary.stop();
      await deadReplica.stop();
    }
  });

  it('answers 503 problem+json, and /readyz 503, when neither endpoint answers', async () => {
    await cut(replicaProxy);
    await cut(primaryProxy);
    const res = await read();
    expect(res.statusCode).toBe(503);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.headers['retry-after']).toBe('1');
    expect(res.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });
    expect(res.headers['splitstream-served-by']).toBeUndefined();
    expect(JSON.stringify(res.json())).not.toMatch(/127\.0\.0\.1|Mongo/);
    const ready = await suite.server.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.store).toContain('neither');
  });
});
