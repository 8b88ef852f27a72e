import { randomBytes } from 'node:crypto';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { hashApiKey } from '../api-keys';
import { createTestTopic, removeTestData, testInfra, uniqueName } from './infra';
import { type ChildService, SERVICE_SCRIPT, spawnService } from './processes';

export interface TestApiKeyRecord {
  id: string;
  hash: string;
  tenant: string;
  scopes: string[];
}

export interface TestApiKey {
  /** The plaintext a client sends as its bearer token. */
  key: string;
  tenant: string;
  /** The hashed record the gateway is configured with (API_KEYS). */
  record: TestApiKeyRecord;
}

/** A fresh API key: the plaintext for the client, the hashed record for the gateway. */
export function testApiKey(id: string, tenant: string, scopes: string[]): TestApiKey {
  const key = `sk_test_${randomBytes(16).toString('hex')}`;
  return {
    key,
    tenant,
    record: { id, hash: hashApiKey(key), tenant, scopes },
  };
}

/** A suite's own Kafka topics and the settings every service of its system shares. */
export interface SystemTopics {
  admin: Admin;
  topic: string;
  deadLetterTopic: string;
  /** What writer, ingest, query and gateway all get: the internal secret, Kafka and store endpoints. */
  env: Record<string, string>;
  /** `env` plus the writer's own consumer group and dead-letter topic. */
  writerEnv: Record<string, string>;
  /** Deletes the topics, disconnects the admin and removes what the tenants stored. */
  remove(tenants: string[]): Promise<void>;
}

/**
 * Connects a Kafka admin and creates `<prefix>-events` (3 partitions) and `<prefix>-dlq` (1), with
 * an internal secret of this run only.
 */
export async function createSystemTopics(prefix: string, { clientId }: { clientId?: string } = {}) {
  const infra = testInfra();
  const admin = new Kafka({
    ...(clientId ? { clientId } : {}),
    brokers: infra.brokers,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  let topics: string[] = [];
  const remove = async (tenants: string[]) => {
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    await removeTestData(infra.writeUri, { tenants, topics: topics.slice(0, 1) });
  };
  try {
    const topic = await createTestTopic(admin, `${prefix}-events`, 3);
    topics = [topic];
    const deadLetterTopic = await createTestTopic(admin, `${prefix}-dlq`, 1);
    topics = [topic, deadLetterTopic];
    const env = {
      INTERNAL_AUTH_SECRET: `${prefix}-${randomBytes(8).toString('hex')}`,
      KAFKA_BROKERS: infra.brokers.join(','),
      KAFKA_TOPIC: topic,
      MONGO_WRITE_URI: infra.writeUri,
      MONGO_READ_URI: infra.readUri,
    };
    const writerEnv = {
      ...env,
      KAFKA_GROUP_ID: uniqueName(`${prefix}-writer`),
      KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
    };
    return { admin, topic, deadLetterTopic, env, writerEnv, remove } satisfies SystemTopics;
  } catch (error) {
    await remove([]).catch(() => undefined);
    throw error;
  }
}

export interface SystemOptions {
  /** Names the topics, the consumer group and the secret. */
  prefix: string;
  clientId?: string;
  /** The gateway's API keys; the first is the default of `call`, and their tenants are cleaned up. */
  keys: TestApiKey[];
  /** Settings of one service on top of the shared ones. */
  writer?: Record<string, string>;
  ingest?: Record<string, string>;
  query?: Record<string, string>;
  gateway?: Record<string, string>;
}

export interface System extends SystemTopics {
  writer: ChildService;
  ingest: ChildService;
  query: ChildService;
  gateway: ChildService;
  /** Every running process of the system (respawn keeps it current). */
  services: ChildService[];
  /** A request through the gateway with a key's bearer token (the first key's unless `key` is given). */
  call(path: string, init?: RequestInit & { key?: string }): Promise<Response>;
  /** Stops the named service and starts it again with `env`. */
  respawn(name: 'writer' | 'ingest' | 'query', env: Record<string, string>): Promise<ChildService>;
  /** SIGTERMs every process, then removes the topics and the keys' tenants' data. */
  stop(): Promise<void>;
}

/**
 * The whole system as real processes (each service's built dist, on its own free port): writer,
 * ingest and query on this suite's own topics and consumer group, and a gateway in front of ingest
 * and query that knows `keys`. Resolves once each answers /readyz.
 */
export async function spawnSystem(options: SystemOptions): Promise<System> {
  const topics = await createSystemTopics(options.prefix, { clientId: options.clientId });
  const { env, writerEnv } = topics;
  const services: ChildService[] = [];
  const tenants = [...new Set(options.keys.map((k) => k.tenant))];
  const stop = async () => {
    await Promise.all(services.map((s) => s.kill('SIGTERM')));
    await topics.remove(tenants);
  };
  try {
    const started = await Promise.allSettled([
      spawnService('writer', SERVICE_SCRIPT('writer'), { ...writerEnv, ...options.writer }),
      spawnService('ingest', SERVICE_SCRIPT('ingest'), { ...env, ...options.ingest }),
      spawnService('query', SERVICE_SCRIPT('query'), { ...env, ...options.query }),
    ]);
    for (const result of started) if (result.status === 'fulfilled') services.push(result.value);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
    const [writer, ingest, query] = services as [ChildService, ChildService, ChildService];
    const gateway = await spawnService('gateway', SERVICE_SCRIPT('gateway'), {
      ...env,
      INGEST_UPSTREAMS: ingest.url,
      QUERY_UPSTREAMS: query.url,
      API_KEYS: JSON.stringify(options.keys.map((k) => k.record)),
      ...options.gateway,
    });
    services.push(gateway);
    const defaultKey = options.keys[0]?.key;
    return {
      ...topics,
      writer,
      ingest,
      query,
      gateway,
      services,
      call: (path, init = {}) =>
        fetch(`${gateway.url}${path}`, {
          ...init,
          headers: {
            authorization: `Bearer ${init.key ?? defaultKey}`,
            ...(init.body ? { 'content-type': 'application/json' } : {}),
            ...init.headers,
          },
        }),
      respawn: async (name, serviceEnv) => {
        const old = services.findIndex((s) => s.name === name);
        if (old >= 0) await services.splice(old, 1)[0]?.kill('SIGTERM');
        const fresh = await spawnService(name, SERVICE_SCRIPT(name), serviceEnv);
        services.push(fresh);
        return fresh;
      },
      stop,
    };
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
}
