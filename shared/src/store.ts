import {
  type Db,
  type IndexDescription,
  MongoClient,
  type MongoClientOptions,
  MongoNetworkError,
  MongoServerSelectionError,
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

const SOCKET_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * True when an error says the store endpoint cannot be reached (no server selectable, connection
 * reset or refused, pool cleared): retrying later, or elsewhere, may succeed. Anything else (a bad
 * query, a refused document) is not an availability problem.
 */
export function isStoreUnreachable(error: unknown): boolean {
  if (error instanceof MongoServerSelectionError || error instanceof MongoNetworkError) return true;
  // A connection reset while the driver writes a command surfaces as the bare socket error.
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SOCKET_ERROR_CODES.has(code);
}
