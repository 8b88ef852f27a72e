/** End-to-end helpers: a real writer (in process or as a child process), the real broker and store. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { type CloudEvent, identityKey, STORE, type StoredEvent, toKafkaMessage } from '@splitstream/shared';
import { testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import Fastify, { type FastifyInstance } from 'fastify';
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

/** A writer app in this process (tests read its metrics with inject); resolves once it is ready. */
export async function startWriter(env: Env): Promise<FastifyInstance> {
  const server = Fastify();
  await server.register(app, { config: loadWriterConfig({ ...FAST_WRITER_ENV, ...env }) });
  await waitFor(async () => (await server.inject('/readyz')).statusCode === 200, { what: 'writer ready' });
  return server;
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

/** Produces as ingest does (same message builder, acks=all), in chunks. */
export async function produce(
  producer: Producer,
  topic: string,
  tenant: string,
  events: CloudEvent[],
  chunk = 1_000,
) {
  for (let start = 0; start < events.length; start += chunk) {
    const messages: Message[] = events
      .slice(start, start + chunk)
      .map((e) => toKafkaMessage(tenant, e, new Date()));
    await producer.send({ topic, acks: -1, messages });
  }
}

export async function connectStore(): Promise<{ client: MongoClient; db: Db }> {
  const client = await new MongoClient(infra.writeUri).connect();
  return { client, db: client.db(STORE.database) };
}

export const eventsOf = (db: Db) => db.collection<StoredEvent>(STORE.collections.events);

export async function countStored(db: Db, tenant: string): Promise<number> {
  return eventsOf(db).countDocuments({ tenant });
}

/** Waits until `expected` events of the tenant are stored, failing fast if there are ever more. */
export async function waitForStored(db: Db, tenant: string, expected: number, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const count = await countStored(db, tenant);
      if (count > expected) throw new Error(`${count} stored, more than the ${expected} expected`);
      return count === expected;
    },
    { timeoutMs, intervalMs: 200, what: `${expected} events stored for ${tenant}` },
  );
}

/** Every (source, id) stored, as identity keys. */
export async function storedIdentities(db: Db, tenant: string): Promise<string[]> {
  const docs = await eventsOf(db)
    .find({ tenant }, { projection: { source: 1, id: 1 } })
    .toArray();
  return docs.map((d) => identityKey(tenant, d.source, d.id)).sort();
}

/** End offset per partition (the next offset to be written). */
export async function endOffsets(admin: Admin, topic: string): Promise<Map<number, string>> {
  return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high]));
}

/** The store's checkpoint per partition must say every offset up to the end is stored. */
export async function expectCheckpointsAtEnd(admin: Admin, db: Db, topic: string) {
  const ends = await endOffsets(admin, topic);
  await waitFor(
    async () => {
      const checkpoints = await db.collection(STORE.collections.checkpoints).find({ topic }).toArray();
      const byPartition = new Map(checkpoints.map((c) => [c.partition as number, c.offset as string]));
      return [...ends].every(([p, end]) => end === '0' || byPartition.get(p) === String(BigInt(end) - 1n));
    },
    { what: `checkpoints of ${topic} at the end offsets` },
  );
}

/** Group lag: messages past the committed offsets. */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const ends = await endOffsets(admin, topic);
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  let lag = 0n;
  for (const { partition, offset } of committed?.partitions ?? []) {
    const end = BigInt(ends.get(partition) ?? '0');
    lag += end - (offset === '-1' ? 0n : BigInt(offset));
  }
  return Number(lag);
}

export async function cleanUp(db: Db, tenant: string, topics: string[]) {
  await eventsOf(db).deleteMany({ tenant });
  await db.collection(STORE.collections.deadLetters).deleteMany({ tenant });
  await db.collection(STORE.collections.checkpoints).deleteMany({ topic: { $in: topics } });
}

export const tenantName = (what: string) => uniqueName(`writer-${what}`);
