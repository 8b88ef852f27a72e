import { buildService, type Principal, SCOPES, signPrincipal, TOPICS } from '@splitstream/shared';
import { createTestTopic, testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import type { FastifyInstance } from 'fastify';
import { type Admin, type IHeaders, Kafka, type KafkaConfig, logLevel } from 'kafkajs';
import type { MongoClientOptions } from 'mongodb';
import { type AppOptions, app } from '../src/app';
import { type IngestConfig, loadIngestConfig } from '../src/config';

export const SECRET = 'ingest-test-secret-0123456789';

export function testKafka(overrides?: Partial<KafkaConfig>): Kafka {
  return new Kafka({
    clientId: uniqueName('ingest-test'),
    brokers: testInfra().brokers,
    logLevel: logLevel.NOTHING,
    ...overrides,
  });
}

export async function createTopic(admin: Admin, partitions = TOPICS.events.partitions): Promise<string> {
  return createTestTopic(admin, 'ingest-test', partitions);
}

/**
 * The instance server.ts listens with (shared buildService: its validator and server options), not
 * listening, without logs. `kafka` and `mongo` are the test-only client overrides of AppOptions.
 */
export async function ingestInstance(
  config: IngestConfig,
  overrides: Pick<AppOptions, 'kafka' | 'mongo'> = {},
): Promise<FastifyInstance> {
  return buildService({
    service: 'ingest',
    config,
    app: (instance, options) => app(instance, { ...options, ...overrides }),
    serverOptions: { logger: false },
  });
}

/** The ingest app on a Fastify instance (inject only), writing to `topic`. */
export async function buildIngest(
  topic: string,
  env: Record<string, string> = {},
  kafka?: Partial<KafkaConfig>,
  mongo?: MongoClientOptions,
): Promise<FastifyInstance> {
  const config = loadIngestConfig({
    KAFKA_BROKERS: testInfra().brokers.join(','),
    KAFKA_TOPIC: topic,
    MONGO_WRITE_URI: testInfra().writeUri,
    INTERNAL_AUTH_SECRET: SECRET,
    // Off: shedding is not what these suites test (the one that does sets its bound). No bound is
    // high enough: under-pressure takes a sample interval without a single sample, as after the
    // test file's load blocked a loaded machine, as an infinite delay and sheds the next second,
    // which is every request of a suite of injects (every answer 503, seen in clean runs).
    INGEST_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...env,
  });
  const server = await ingestInstance(config, { ...(kafka ? { kafka } : {}), ...(mongo ? { mongo } : {}) });
  await server.ready();
  return server;
}

/**
 * buildIngest, then wait until its /readyz says the broker serves: what the gateway waits for before
 * it sends an instance traffic (the producer connects in the background, so the first send could
 * otherwise meet a 503 on a loaded machine).
 */
export async function buildReadyIngest(...args: Parameters<typeof buildIngest>): Promise<FastifyInstance> {
  const server = await buildIngest(...args);
  await waitFor(async () => (await server.inject('/readyz')).statusCode === 200, {
    what: 'ingest ready (producer connected)',
  });
  return server;
}

/** What an ingest suite shares: a Kafka client, a connected admin, its own topic and (usually) an app. */
export interface IngestSuite {
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly topic: string;
  readonly app: FastifyInstance;
}

export interface IngestSuiteOptions {
  /** Partitions of the suite's topic (the events topic's count by default). */
  partitions?: number;
  /** Env of the default app: buildReadyIngest(topic, env). */
  env?: Record<string, string>;
  /** Builds the suite's app instead (false: the suite builds its own apps in its tests). */
  build?: ((topic: string) => Promise<FastifyInstance>) | false;
  /** Runs after the app closed, before the topic is deleted (what `build` started). */
  afterApp?: () => Promise<void>;
}

/**
 * beforeAll/afterAll for a suite against the real broker: admin connected and a fresh topic before,
 * then the app built on it; after, the app closed, the topic deleted and the admin disconnected.
 * Read the fields inside hooks and tests (they are set by beforeAll).
 */
export function ingestSuite(options: IngestSuiteOptions = {}): IngestSuite {
  const kafka = testKafka();
  const { build = (topic: string) => buildReadyIngest(topic, options.env) } = options;
  let admin: Admin | undefined;
  let topic: string | undefined;
  let app: FastifyInstance | undefined;
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`the suite's ${what} is set in beforeAll`);
    return value;
  };

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    topic = await createTopic(admin, options.partitions);
    if (build) app = await build(topic);
  });

  afterAll(async () => {
    await app?.close();
    await options.afterApp?.();
    if (topic) await admin?.deleteTopics({ topics: [topic] });
    await admin?.disconnect();
  });

  return {
    kafka,
    get admin() {
      return ready(admin, 'admin');
    },
    get topic() {
      return ready(topic, 'topic');
    },
    get app() {
      return ready(app, 'app');
    },
  };
}

export function writeHeaders(tenant: string, scopes: string[] = [SCOPES.write]): Record<string, string> {
  const principal: Principal = { tenant, scopes };
  return signPrincipal(SECRET, principal);
}

/** POST /v1/events of one event as `tenant` (a writer). */
export function postEvent(app: FastifyInstance, tenant: string, event: Record<string, unknown>) {
  return app.inject({ method: 'POST', url: '/v1/events', headers: writeHeaders(tenant), payload: event });
}

let counter = 0;
export function sampleEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    specversion: '1.0',
    id: uniqueName(`ev${counter}`),
    source: '/test/ingest',
    type: 'com.example.test',
    data: { n: counter },
    ...overrides,
  };
}

export interface ConsumedMessage {
  partition: number;
  offset: string;
  key: string;
  headers: IHeaders;
  value: Record<string, unknown>;
}

/** Reads `topic` from the beginning until at least `count` messages arrived (unique group, closed after). */
export async function consumeTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 30_000) {
  const consumer = kafka.consumer({ groupId: uniqueName('ingest-test-group') });
  const messages: ConsumedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        messages.push({
          partition,
          offset: message.offset,
          key: message.key?.toString() ?? '',
          headers: message.headers ?? {},
          value: JSON.parse(message.value?.toString() ?? 'null'),
        });
      },
    });
    await waitFor(() => messages.length >= count, { timeoutMs, what: `${count} messages on ${topic}` });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}

/** Sum of the high watermarks of a topic: how many messages it holds (no compaction, no deletion). */
export async function topicSize(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, o) => sum + Number(o.high) - Number(o.low), 0);
}
