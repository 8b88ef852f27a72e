/** End-to-end helpers: a real writer (in process or as a child process), the real broker and store. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import {
  buildService,
  type CloudEvent,
  identityKey,
  STORE,
  type StoredEvent,
  toKafkaMessage,
} from '@splitstream/shared';
import { createTestTopic, testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import type { FastifyInstance } from 'fastify';
import { type Admin, Kafka, logLevel, type Message, type Producer } from 'kafkajs';
import { type Db, MongoClient } from 'mongodb';
import { app } from '../../src/app';
import { loadWriterConfig } from '../../src/config';

export const infra = testInfra();
export const kafka = new Kafka({
  clientId: 'writer-e2e',
  brokers: infra.brokers,
  logLevel: logLevel.NOTHING,
});

/** Settings that make a test writer react in seconds rather than the production defaults. */
export const FAST_WRITER_ENV = {
  KAFKA_BROKERS: infra.brokers.join(','),
  MONGO_WRITE_URI: infra.writeUri,
  KAFKA_SESSION_TIMEOUT_MS: '6000',
  KAFKA_HEARTBEAT_INTERVAL_MS: '500',
  KAFKA_MAX_WAIT_MS: '100',
  WRITER_RETRY_MAX_MS: '500',
  LOG_LEVEL: 'warn',
};

export interface Env {
  [name: string]: string;
}

async function buildWriter(env: Env): Promise<FastifyInstance> {
  return buildService({ service: 'writer', config: loadWriterConfig(env), app });
}

/** A writer app in this process (tests read its metrics with inject); resolves once it is ready. */
export async function startWriter(env: Env): Promise<FastifyInstance> {
  const server = await buildWriter({ ...FAST_WRITER_ENV, ...env });
  await waitFor(async () => (await server.inject('/readyz')).statusCode === 200, { what: 'writer ready' });
  return server;
}

/** A writer app with the production timings on the shared endpoints, not awaited ready, closed after `use`. */
export async function withWriterApp(env: Env, use: (server: FastifyInstance) => Promise<void>) {
  const server = await buildWriter({
    KAFKA_BROKERS: infra.brokers.join(','),
    MONGO_WRITE_URI: infra.writeUri,
    ...env,
  });
  try {
    await use(server);
  } finally {
    await server.close();
  }
}

/** The writer as its own process, built from dist (like production); its stderr is kept for failures. */
export function spawnWriter(env: Env): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, [resolve(__dirname, '../../dist/server.js')], {
    env: { ...process.env, ...FAST_WRITER_ENV, PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stderr?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  return child;
}

export async function metricValue(server: FastifyInstance, name: string, labels = ''): Promise<number> {
  const text = (await server.inject('/metrics')).body;
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (labels && !line.includes(labels)) continue;
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
}

export function event(id: string, source = '/e2e/a', extra: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source,
    type: 'com.example.e2e',
    time: new Date().toISOString(),
    data: { id, source },
    ...extra,
  };
}

export async function connectStore(): Promise<{ client: MongoClient; db: Db }> {
  const client = await new MongoClient(infra.writeUri).connect();
  return { client, db: client.db(STORE.database) };
}

const eventsOf = (db: Db) => db.collection<StoredEvent>(STORE.collections.events);

export async function cleanUp(db: Db, tenant: string, topics: string[]) {
  await eventsOf(db).deleteMany({ tenant });
  await db.collection(STORE.collections.deadLetters).deleteMany({ tenant });
  await db.collection(STORE.collections.checkpoints).deleteMany({ topic: { $in: topics } });
  await db.collection(STORE.collections.rollups).deleteMany({ tenant });
  await db.collection(STORE.collections.rollupLedger).deleteMany({ topic: { $in: topics } });
}

export const tenantName = (what: string) => uniqueName(`writer-${what}`);

interface Connected {
  client: MongoClient;
  db: Db;
  admin: Admin;
  producer: Producer;
}

/**
 * What an end-to-end suite shares: a store client, an admin and a producer, connected before its
 * tests (beforeAll), and what it creates through them, removed after its tests (afterAll).
 */
export function e2eSuite(): E2eSuite {
  const suite = new E2eSuite();
  beforeAll(() => suite.connect());
  afterAll(() => suite.release());
  return suite;
}

export class E2eSuite {
  private connected: Connected | undefined;
  private readonly topics: string[] = [];
  private readonly tenants: string[] = [];
  private readonly writers: FastifyInstance[] = [];
  private readonly releases: Array<() => unknown> = [];

  async connect(): Promise<void> {
    const { client, db } = await connectStore();
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([admin.connect(), producer.connect()]);
    this.connected = { client, db, admin, producer };
  }

  /** In this order: writers close, deferred releases run, tenants' data and topics go, it disconnects. */
  async release(): Promise<void> {
    const { client, db, admin, producer } = this.resources();
    await this.closeWriters();
    for (const release of this.releases.splice(0)) await release();
    for (const tenant of this.tenants) await cleanUp(db, tenant, this.topics);
    if (this.topics.length > 0) await admin.deleteTopics({ topics: this.topics });
    await Promise.all([admin.disconnect(), producer.disconnect(), client.close()]);
  }

  get db(): Db {
    return this.resources().db;
  }

  get admin(): Admin {
    return this.resources().admin;
  }

  get producer(): Producer {
    return this.resources().producer;
  }

  get events() {
    return eventsOf(this.db);
  }

  /** A new topic, deleted after the suite. */
  async topic(prefix: string, partitions: number): Promise<string> {
    const name = await createTestTopic(this.admin, prefix, partitions);
    this.topics.push(name);
    return name;
  }

  /** A new tenant, whose events, dead letters and checkpoints are removed after the suite. */
  tenant(what: string): string {
    const name = tenantName(what);
    this.tenants.push(name);
    return name;
  }

  /** A ready writer app in this process (see startWriter), closed after the suite at the latest. */
  async writer(env: Env): Promise<FastifyInstance> {
    const server = await startWriter(env);
    this.writers.push(server);
    return server;
  }

  async closeWriters(): Promise<void> {
    await Promise.all(this.writers.splice(0).map((w) => w.close()));
  }

  /** Runs `release` after the suite, once its writers are closed and before its data is removed. */
  defer(release: () => unknown): void {
    this.releases.push(release);
  }

  /** Produces as ingest does (same message builder, acks=all), in chunks. */
  async produce(topic: string, tenant: string, events: CloudEvent[], chunk = 1_000) {
    for (let start = 0; start < events.length; start += chunk) {
      const messages: Message[] = events
        .slice(start, start + chunk)
        .map((e) => toKafkaMessage(tenant, e, new Date()));
      await this.producer.send({ topic, acks: -1, messages });
    }
  }

  async countStored(tenant: string): Promise<number> {
    return this.events.countDocuments({ tenant });
  }

  /** Waits until `expected` events of the tenant are stored, failing fast if there are ever more. */
  async waitForStored(tenant: string, expected: number, timeoutMs = 60_000) {
    return waitFor(
      async () => {
        const count = await this.countStored(tenant);
        if (count > expected) throw new Error(`${count} stored, more than the ${expected} expected`);
        return count === expected;
      },
      { timeoutMs, intervalMs: 200, what: `${expected} events stored for ${tenant}` },
    );
  }

  /** Every (source, id) stored, as identity keys. */
  async storedIdentities(tenant: string): Promise<string[]> {
    const docs = await this.events.find({ tenant }, { projection: { source: 1, id: 1 } }).toArray();
    return docs.map((d) => identityKey(tenant, d.source, d.id)).sort();
  }

  /** End offset per partition (the next offset to be written). */
  async endOffsets(topic: string): Promise<Map<number, string>> {
    return new Map((await this.admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high]));
  }

  /** The store's checkpoint per partition must say every offset up to the end is stored. */
  async expectCheckpointsAtEnd(topic: string) {
    const ends = await this.endOffsets(topic);
    const checkpoints = this.db.collection(STORE.collections.checkpoints);
    await waitFor(
      async () => {
        const found = await checkpoints.find({ topic }).toArray();
        const byPartition = new Map(found.map((c) => [c.partition as number, c.offset as string]));
        return [...ends].every(([p, end]) => end === '0' || byPartition.get(p) === String(BigInt(end) - 1n));
      },
      { what: `checkpoints of ${topic} at the end offsets` },
    );
  }

  /** Group lag: messages past the committed offsets. */
  async groupLag(groupId: string, topic: string): Promise<number> {
    const ends = await this.endOffsets(topic);
    const [committed] = await this.admin.fetchOffsets({ groupId, topics: [topic] });
    let lag = 0n;
    for (const { partition, offset } of committed?.partitions ?? []) {
      const end = BigInt(ends.get(partition) ?? '0');
      lag += end - (offset === '-1' ? 0n : BigInt(offset));
    }
    return Number(lag);
  }

  private resources(): Connected {
    if (!this.connected) throw new Error('the suite is not connected yet (use it inside a test or hook)');
    return this.connected;
  }
}
