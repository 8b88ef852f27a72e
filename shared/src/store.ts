import {
  type AnyBulkWriteOperation,
  type BulkWriteOptions,
  type Collection,
  type Db,
  type Document,
  type IndexDescription,
  MongoClient,
  type MongoClientOptions,
  ReadPreference,
} from 'mongodb';

/**
 * The store's layout. Collections and indexes are created by the infra bootstrap on the primary
 * *before* the local replica endpoint starts (FerretDB v1 on a hot standby only sees collections
 * that existed when it started), and again, idempotently, by the writer at start.
 */
export const STORE = Object.freeze({
  database: 'splitstream',
  collections: {
    events: 'events',
    checkpoints: 'checkpoints',
    deadLetters: 'deadletters',
    rollups: 'rollups',
    rollupLedger: 'rollupledger',
  },
});

export const STORE_INDEXES: Record<string, IndexDescription[]> = {
  [STORE.collections.events]: [
    // Keyset pagination by (time, _id) under each equality filter; the tenant prefix is always present.
    { key: { tenant: 1, time: 1, _id: 1 }, name: 'tenant_time' },
    { key: { tenant: 1, type: 1, time: 1, _id: 1 }, name: 'tenant_type_time' },
    { key: { tenant: 1, source: 1, time: 1, _id: 1 }, name: 'tenant_source_time' },
    { key: { tenant: 1, subject: 1, time: 1, _id: 1 }, name: 'tenant_subject_time' },
    { key: { tenant: 1, id: 1 }, name: 'tenant_id' },
  ],
  [STORE.collections.checkpoints]: [
    { key: { topic: 1, partition: 1 }, name: 'topic_partition', unique: true },
  ],
  [STORE.collections.deadLetters]: [
    { key: { tenant: 1, deadLetteredAt: 1, _id: 1 }, name: 'tenant_time' },
    { key: { tenant: 1, id: 1 }, name: 'tenant_id' },
  ],
  [STORE.collections.rollups]: [
    { key: { slice: 1 }, name: 'slice' },
    { key: { rollup: 1 }, name: 'rollup' },
  ],
  // Read and written by _id only.
  [STORE.collections.rollupLedger]: [],
};

/** Creates the database, collections and indexes when missing. Returns true when it created anything. */
export async function ensureStoreLayout(db: Db): Promise<boolean> {
  let changed = false;
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const [name, indexes] of Object.entries(STORE_INDEXES)) {
    if (!existing.has(name)) {
      await db.createCollection(name);
      changed = true;
    }
    const collection = db.collection(name);
    const present = new Set((await collection.indexes()).map((i) => i.name));
    const missing = indexes.filter((i) => !present.has(i.name));
    if (missing.length > 0) {
      await collection.createIndexes(missing);
      changed = true;
    }
  }
  return changed;
}

/**
 * Updates per command. FerretDB v1 holds a PostgreSQL connection for each update of a command until
 * the command ends: one with more updates than its pool (infra: pool_max_conns=40) waits for itself
 * forever, and a few large ones at once starve each other (measured: 39 updates answer, 50 never).
 * Small enough that every writer partition in flight (two writers of three each) and a replay
 * together stay far below the pool.
 */
export const UPDATES_PER_COMMAND = 4;

/** bulkWrite in commands of UPDATES_PER_COMMAND operations, one after another. */
export async function bulkWriteInChunks<T extends Document>(
  collection: Collection<T>,
  operations: AnyBulkWriteOperation<T>[],
  options: BulkWriteOptions = {},
): Promise<void> {
  for (let i = 0; i < operations.length; i += UPDATES_PER_COMMAND) {
    await collection.bulkWrite(operations.slice(i, i + UPDATES_PER_COMMAND), options);
  }
}

const COMMON_OPTIONS: MongoClientOptions = {
  appName: 'splitstream',
  serverSelectionTimeoutMS: 5_000,
  connectTimeoutMS: 3_000,
};

/** Client for the primary: writes acknowledged by a majority (real replica sets; FerretDB ignores it). */
export function createWriteClient(uri: string, options: MongoClientOptions = {}): MongoClient {
  return new MongoClient(uri, { ...COMMON_OPTIONS, writeConcern: { w: 'majority' }, ...options });
}

/**
 * Client for reads: secondaryPreferred with a max staleness where the topology supports it.
 * (A direct connection to a single endpoint, as the local FerretDB replica is, ignores read preference.)
 */
export function createReadClient(uri: string, options: MongoClientOptions = {}): MongoClient {
  return new MongoClient(uri, {
    ...COMMON_OPTIONS,
    readPreference: new ReadPreference('secondaryPreferred', undefined, { maxStalenessSeconds: 90 }),
    ...options,
  });
}

const UNSTORABLE_IN_STRINGS =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what PostgreSQL refuses.
  /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Replaces what PostgreSQL's JSONB (the local store) refuses in a string, U+0000 and lone UTF-16
 * surrogates, with U+FFFD. For records that describe an event (a dead letter's id, key, headers),
 * so the record of a refused event is never refused itself; never applied to events.
 */
export function storableString(value: string): string {
  return value.replace(UNSTORABLE_IN_STRINGS, '\ufffd');
}

/**
 * A real read for /readyz: a find reaches the store's backend, where a ping does not (a FerretDB
 * endpoint whose PostgreSQL is gone still answers ping). No filter and no sort, so it costs one row.
 */
export async function probeStoreRead(db: Db, maxTimeMS = 800): Promise<void> {
  await db.collection(STORE.collections.checkpoints).findOne({}, { projection: { _id: 1 }, maxTimeMS });
}
