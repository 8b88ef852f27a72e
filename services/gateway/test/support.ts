import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { buildService, SCOPES } from '@splitstream/shared';
import {
  type ChildService,
  createTestTopic,
  freePort,
  removeTestData,
  SERVICE_SCRIPT,
  spawnService as spawnSharedService,
  testInfra,
  uniqueName,
  waitFor,
} from '@splitstream/shared/testing';
import type { FastifyInstance } from 'fastify';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { request } from 'undici';
import { app, GATEWAY_SERVER_OPTIONS } from '../src/app';
import { hashApiKey } from '../src/auth/api-keys';
import { type GatewayConfig, loadGatewayConfig } from '../src/config';

export { type ChildService, freePort, SERVICE_SCRIPT };

export const SECRET = `gateway-test-${randomBytes(8).toString('hex')}`;

export interface TestKey {
  key: string;
  id: string;
  tenant: string;
  scopes: string[];
  rateLimit?: number;
}

/** API keys for a test: plaintext for the client, hashed records for the gateway. */
export function makeKeys(tenant: string, otherTenant: string) {
  const make = (id: string, t: string, scopes: string[], rateLimit?: number): TestKey => ({
    key: `sk_test_${randomBytes(16).toString('hex')}`,
    id,
    tenant: t,
    scopes,
    ...(rateLimit ? { rateLimit } : {}),
  });
  const keys = {
    readWrite: make('rw', tenant, [SCOPES.read, SCOPES.write]),
    readOnly: make('ro', tenant, [SCOPES.read]),
    writeOnly: make('wo', tenant, [SCOPES.write]),
    other: make('other', otherTenant, [SCOPES.read, SCOPES.write]),
    limited: make('limited', tenant, [SCOPES.read, SCOPES.write], 5),
    admin: make('admin', tenant, [SCOPES.admin]),
  };
  const records = Object.values(keys).map((k) => ({
    id: k.id,
    hash: hashApiKey(k.key),
    tenant: k.tenant,
    scopes: k.scopes,
    ...(k.rateLimit ? { rateLimit: k.rateLimit } : {}),
  }));
  return { keys, json: JSON.stringify(records) };
}

/** What the echo upstream answers: what it received. */
export interface Echo {
  instance: string;
  principal: { tenant: string; scopes: string[] };
  requestId: string;
  headers: Record<string, string>;
  bodyBytes: number;
  bodySha256: string | null;
}

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  config: GatewayConfig;
  close(): Promise<void>;
}

/** The gateway app on port 0 (tests of the network path talk to it over real HTTP). */
export async function startGateway(env: Record<string, string>): Promise<RunningGateway> {
  const config = loadGatewayConfig({
    INTERNAL_AUTH_SECRET: SECRET,
    HEALTH_CHECK_INTERVAL_MS: '200',
    EJECTION_MIN_MS: '300',
    LOG_LEVEL: process.env.GATEWAY_TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const server = await buildService({
    service: 'gateway',
    config,
    app,
    serverOptions: GATEWAY_SERVER_OPTIONS,
  });
  const address = await server.listen({ host: '127.0.0.1', port: 0 });
  return { app: server, url: address, config, close: () => server.close() };
}

/** A service process that trusts this suite's gateway (same internal secret). */
export function spawnService(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { port?: number; readyTimeoutMs?: number } = {},
): Promise<ChildService> {
  return spawnSharedService(name, script, { INTERNAL_AUTH_SECRET: SECRET, ...env }, options);
}

/** API keys of the echo suites (tenants acme and globex). */
export const ECHO_KEYS = makeKeys('acme', 'globex');

export const ECHO_UPSTREAM = join(__dirname, 'fixtures', 'echo-upstream.js');

export function startEcho(name: string, port?: number): Promise<ChildService> {
  return spawnService(name, ECHO_UPSTREAM, { NAME: name }, port === undefined ? {} : { port });
}

export function bearer(key: TestKey): Record<string, string> {
  return { authorization: `Bearer ${key.key}` };
}

export async function metricValue(
  url: string,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

/**
 * Real ingest and query processes (their built dist/server.js) on free ports, publishing to and
 * reading checkpoints of the test's own topic. Names: ingest-1, ingest-2…, query-1…
 */
export async function startServices(options: {
  ingest: number;
  query: number;
  topic: string;
  env?: Record<string, string>;
}): Promise<ChildService[]> {
  const env = { KAFKA_TOPIC: options.topic, ...options.env };
  const names = [
    ...Array.from({ length: options.ingest }, (_, i) => ['ingest', `ingest-${i + 1}`]),
    ...Array.from({ length: options.query }, (_, i) => ['query', `query-${i + 1}`]),
  ] as [string, string][];
  const started = await Promise.allSettled(
    names.map(([service, name]) => spawnService(name, SERVICE_SCRIPT(service), env)),
  );
  const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await Promise.all(ok.map((s) => s.kill('SIGKILL')));
    throw (failed as PromiseRejectedResult).reason;
  }
  return ok;
}

/** The instance a request in flight went to, read from the gateway's pending gauge. */
export async function busyInstance(gateway: RunningGateway, upstream: string, candidates: ChildService[]) {
  return waitFor(
    async () => {
      for (const candidate of candidates) {
        if (
          (await metricValue(gateway.url, 'gateway_upstream_pending', {
            upstream,
            instance: candidate.url,
          })) > 0
        ) {
          return candidate;
        }
      }
      return undefined;
    },
    { what: 'a request in flight' },
  );
}

export function urlsOf(services: ChildService[], prefix: string): string {
  return services
    .filter((s) => s.name.startsWith(`${prefix}-`))
    .map((s) => s.url)
    .join(',');
}

/** A CloudEvent for the gateway suites (a fresh id unless given). */
export const gatewayEvent = (id = uniqueName('ev'), extra: Record<string, unknown> = {}) => ({
  specversion: '1.0',
  id,
  source: '/gateway/test',
  type: 'com.example.gateway.tested',
  subject: 'order-1',
  ...extra,
});

export interface Accepted {
  id: string;
  token: string;
}

export interface RealServices {
  tenant: string;
  otherTenant: string;
  keys: ReturnType<typeof makeKeys>['keys'];
  topic: string;
  /** The running ingest and query processes (ingest-1, ingest-2, query-1, query-2). */
  services: ChildService[];
  gateway: RunningGateway;
  byName(name: string): ChildService;
  post(
    key: TestKey,
    body: unknown,
    path?: string,
    headers?: Record<string, string>,
  ): ReturnType<typeof request>;
  get(key: TestKey, path: string, headers?: Record<string, string>): ReturnType<typeof request>;
}

/**
 * For one describe: two ingest, two query and a writer as real processes on the suite's own topic,
 * behind a gateway on port 0 that knows the keys of two new tenants; afterwards their data is removed.
 */
export function useRealServices(): RealServices {
  const tenant = uniqueName('gw-acme');
  const otherTenant = uniqueName('gw-globex');
  const { keys, json: apiKeys } = makeKeys(tenant, otherTenant);
  let admin: Admin;
  let deadLetterTopic: string;
  let writer: ChildService | undefined;
  const suite: RealServices = {
    tenant,
    otherTenant,
    keys,
    topic: '',
    services: [],
    gateway: undefined as unknown as RunningGateway,
    byName: (name) => suite.services.find((s) => s.name === name) as ChildService,
    post: (key, body, path = '/v1/events', headers = {}) =>
      request(`${suite.gateway.url}${path}`, {
        method: 'POST',
        headers: { ...bearer(key), 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      }),
    get: (key, path, headers = {}) =>
      request(`${suite.gateway.url}${path}`, { headers: { ...bearer(key), ...headers } }),
  };

  beforeAll(async () => {
    admin = new Kafka({ brokers: testInfra().brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    suite.topic = await createTestTopic(admin, 'gateway-events');
    deadLetterTopic = await createTestTopic(admin, 'gateway-dlq', 1);
    // info level on the services: the request-id test reads their log lines.
    suite.services = await startServices({
      ingest: 2,
      query: 2,
      topic: suite.topic,
      env: { LOG_LEVEL: 'info' },
    });
    writer = await spawnService('writer', SERVICE_SCRIPT('writer'), {
      KAFKA_TOPIC: suite.topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
      KAFKA_GROUP_ID: uniqueName('gateway-writer'),
    });
    suite.gateway = await startGateway({
      API_KEYS: apiKeys,
      INGEST_UPSTREAMS: urlsOf(suite.services, 'ingest'),
      QUERY_UPSTREAMS: urlsOf(suite.services, 'query'),
    });
    await waitFor(async () => (await fetch(`${suite.gateway.url}/readyz`)).ok, { what: 'gateway ready' });
  }, 120_000);

  afterAll(async () => {
    await suite.gateway?.close();
    await Promise.all([...suite.services, ...(writer ? [writer] : [])].map((s) => s.kill()));
    if (suite.topic)
      await admin.deleteTopics({ topics: [suite.topic, deadLetterTopic] }).catch(() => undefined);
    await admin?.disconnect();
    await removeTestData(testInfra().writeUri, { tenants: [tenant, otherTenant], topics: [suite.topic] });
  });
  return suite;
}
