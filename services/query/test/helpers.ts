import { randomUUID } from 'node:crypto';
import {
  buildService,
  bulkWriteInChunks,
  type CellCounts,
  type Checkpoint,
  type CloudEvent,
  checkpointId,
  countEvent,
  createWriteClient,
  type RollupDoc,
  rollupWrites,
  SCOPES,
  STORE,
  type StoredEvent,
  signPrincipal,
  toStoredEvent,
} from '@splitstream/shared';
import { testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import type { FastifyInstance } from 'fastify';
import type { Db, MongoClient } from 'mongodb';
import { app, SERVER_OPTIONS } from '../src/app';
import { loadQueryConfig, type QueryConfig } from '../src/config';

export const infra = testInfra();

/** Builds the query app on the shared store with `env` overrides (never listens). */
export async function buildApp(
  env: Record<string, string> = {},
): Promise<{ server: FastifyInstance; config: QueryConfig }> {
  const config = loadQueryConfig({
    MONGO_READ_URI: infra.readUri,
    MONGO_WRITE_URI: infra.writeUri,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await buildService({ service: 'query', config, app, serverOptions: SERVER_OPTIONS });
  await server.ready();
  return { server, config };
}

/** The signed headers the gateway would add for this tenant. */
export function principal(
  tenant: string,
  config: QueryConfig,
  scopes: string[] = [SCOPES.read],
): Record<string, string> {
  return signPrincipal(config.INTERNAL_AUTH_SECRET, { tenant, scopes });
}

/** Direct clients on the primary (to write fixtures) and the read endpoint (to await replication). */
export interface Store {
  primary: MongoClient;
  replica: MongoClient;
  write: Db;
  read: Db;
  close(): Promise<void>;
}

export async function openStore(): Promise<Store> {
  const primary = createWriteClient(infra.writeUri);
  const replica = createWriteClient(infra.readUri);
  await Promise.all([primary.connect(), replica.connect()]);
  return {
    primary,
    replica,
    write: primary.db(STORE.database),
    read: replica.db(STORE.database),
    close: async () => {
      await Promise.all([primary.close(), replica.close()]);
    },
  };
}

export function newTenant(): string {
  return uniqueName('qt');
}

let offsetCounter = 0;

export interface EventSpec {
  id?: string;
  source?: string;
  type?: string;
  subject?: string;
  time: string | Date;
  data?: unknown;
  [extension: string]: unknown;
}

/** Stored documents as the writer would write them, for one tenant. */
export function storedEvents(tenant: string, specs: EventSpec[], topic = 'events'): StoredEvent[] {
  return specs.map((spec, i) => {
    const { time, ...rest } = spec;
    const event = {
      specversion: '1.0',
      id: spec.id ?? `e-${i}-${offsetCounter}`,
      source: spec.source ?? '/test/source',
      type: spec.type ?? 'test.created',
      ...rest,
      time: typeof time === 'string' ? time : time.toISOString(),
    } as CloudEvent & { time: string };
    offsetCounter += 1;
    return toStoredEvent({
      tenant,
      event,
      receivedAt: new Date(),
      topic,
      partition: offsetCounter % 6,
      offset: String(offsetCounter),
    });
  });
}

/**
 * Inserts through the primary with their rollup counts (as the writer keeps them) and waits until
 * the read endpoint shows all of them.
 */
export async function seed(store: Store, docs: StoredEvent[]): Promise<void> {
  if (docs.length === 0) return;
  for (let i = 0; i < docs.length; i += 500) {
    await store.write.collection<StoredEvent>(STORE.collections.events).insertMany(docs.slice(i, i + 500));
  }
  const rollups = store.write.collection<RollupDoc>(STORE.collections.rollups);
  // One marker per seed (another seed adds its counts too), so one document per rollup, as the
  // writer keeps one per partition: a marker per block would multiply what every stats read adds up.
  const marker = `seed-${randomUUID()}`;
  const cells: CellCounts = new Map();
  for (const doc of docs) countEvent(cells, doc);
  const writes = rollupWrites(marker, 0, cells);
  await bulkWriteInChunks(rollups, writes);
  const write = writes[writes.length - 1];
  const last = write && 'updateOne' in write ? String(write.updateOne.filter._id) : undefined;
  // The standby applies the primary's writes in order: the last one visible means all are.
  await waitFor(
    async () =>
      (await store.read
        .collection<RollupDoc>(STORE.collections.rollups)
        .countDocuments({ _id: last, [`applied.${marker}`]: 0 })) === 1,
    {
      what: 'rollups replicated',
      timeoutMs: 30_000,
    },
  );
  const tenants = [...new Set(docs.map((d) => d.tenant))];
  const ids = docs.map((d) => d._id);
  // One equality filter per tenant: the local store pushes equalities (not $in) down to an index.
  const replicated = async (tenant: string) =>
    store.read
      .collection<StoredEvent>(STORE.collections.events)
      .countDocuments({ tenant, _id: { $in: ids } });
  await waitFor(
    async () => (await Promise.all(tenants.map(replicated))).reduce((a, b) => a + b, 0) === docs.length,
    { what: `${docs.length} events replicated`, timeoutMs: 30_000 },
  );
}

/** Writes checkpoints (partition → offset) on the primary; optionally waits for the replica. */
export async function setCheckpoints(
  store: Store,
  topic: string,
  offsets: Record<number, string>,
  {
    replicated = true,
    updatedAt = new Date(),
    appliedAsOf = {},
  }: { replicated?: boolean; updatedAt?: Date; appliedAsOf?: Record<number, Date> } = {},
): Promise<void> {
  const checkpoints = store.write.collection<Checkpoint>(STORE.collections.checkpoints);
  for (const [partition, offset] of Object.entries(offsets)) {
    const _id = checkpointId(topic, Number(partition));
    await checkpoints.replaceOne(
      { _id },
      {
        topic,
        partition: Number(partition),
        offset,
        updatedAt,
        ...(appliedAsOf[Number(partition)] ? { appliedAsOf: appliedAsOf[Number(partition)] } : {}),
      },
      { upsert: true },
    );
  }
  if (!replicated) return;
  await waitFor(
    async () => {
      const docs = await store.read
        .collection<Checkpoint>(STORE.collections.checkpoints)
        .find({ topic })
        .toArray();
      return Object.entries(offsets).every(([p, o]) =>
        docs.some((d) => d.partition === Number(p) && d.offset === o),
      );
    },
    { what: `checkpoints of ${topic} replicated` },
  );
}

export async function removeFixtures(store: Store, tenants: string[], topics: string[] = []): Promise<void> {
  if (tenants.length > 0) {
    await store.write.collection(STORE.collections.events).deleteMany({ tenant: { $in: tenants } });
    await store.write.collection(STORE.collections.deadLetters).deleteMany({ tenant: { $in: tenants } });
  }
  if (topics.length > 0) {
    await store.write.collection(STORE.collections.checkpoints).deleteMany({ topic: { $in: topics } });
  }
}

/** What a suite's tests use: the store clients, the app, its config, and a GET as a tenant. */
export interface QuerySuite {
  store: Store;
  server: FastifyInstance;
  config: QueryConfig;
  /** A GET with the signed headers of `who` (the suite's first tenant unless given). */
  get(url: string, who?: string): ReturnType<FastifyInstance['inject']>;
}

export interface QuerySuiteOptions {
  /** The suite's tenants: their events and dead letters are removed afterwards. */
  tenants: string[];
  /** Topics whose checkpoints are removed afterwards. */
  topics?: string[];
  /** The app's settings, read once the store is open (a suite may start proxies for them). */
  env?: () => Promise<Record<string, string>> | Record<string, string>;
  /** Writes the suite's fixtures once the app is built. */
  fixtures?: (store: Store) => Promise<void>;
  /** More cleanup, after the app is closed and before the fixtures are removed. */
  teardown?: (store: Store) => Promise<void>;
  timeoutMs?: number;
}

/**
 * The setup every store-backed suite shares, as its describe's beforeAll and afterAll: open the
 * store, build the app, seed; close the app, remove the suite's fixtures, close the store.
 */
export function useQuerySuite(options: QuerySuiteOptions): QuerySuite {
  const suite = {
    get: (url: string, who = options.tenants[0] as string) =>
      suite.server.inject({ url, headers: principal(who, suite.config) }),
  } as QuerySuite;
  beforeAll(async () => {
    suite.store = await openStore();
    ({ server: suite.server, config: suite.config } = await buildApp(await options.env?.()));
    await options.fixtures?.(suite.store);
  }, options.timeoutMs);
  afterAll(async () => {
    await suite.server?.close();
    await options.teardown?.(suite.store);
    await removeFixtures(suite.store, options.tenants, options.topics);
    await suite.store?.close();
  });
  return suite;
}
