import { createWriteClient, probeStoreRead, STORE } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db, MongoClient, MongoClientOptions } from 'mongodb';
import type { IngestConfig } from '../../config';

declare module 'fastify' {
  interface FastifyInstance {
    /** The store's primary: dead-letter records (replay reads and marks them there). */
    store: { client: MongoClient; db: Db };
  }
}

export interface StorePluginOptions {
  config: IngestConfig;
  /** Driver overrides for tests (e.g. a shorter heartbeat); never from the environment. */
  mongo?: MongoClientOptions;
}

/**
 * MongoClient on the primary (the driver connects lazily). Its /readyz check is informative only
 * (`required: false`): only the replay route needs the store, and an unready ingest would be taken
 * out of the gateway's pool, so a store outage would stop event intake, which Kafka exists to keep
 * going. The replay route answers 503 + Retry-After by itself while the store is away.
 */
export const storePlugin = fp(
  async (app: FastifyInstance, options: StorePluginOptions) => {
    const { config } = options;
    const client = createWriteClient(config.MONGO_WRITE_URI, {
      serverSelectionTimeoutMS: config.INGEST_STORE_TIMEOUT_MS,
      ...options.mongo,
    });
    app.decorate('store', { client, db: client.db(STORE.database) });
    app.addReadinessCheck('store', () => probeStoreRead(app.store.db), { required: false });
    app.addHook('onClose', async () => {
      await client.close();
    });
  },
  { name: 'ingest-store', dependencies: ['splitstream-observability'] },
);
