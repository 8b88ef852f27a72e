import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db, MongoClient, MongoClientOptions } from 'mongodb';
import { createWriteClient, probeStoreRead, STORE } from './store';

declare module 'fastify' {
  interface FastifyInstance {
    /** The store's primary (write endpoint, write concern majority). */
    primaryStore: { client: MongoClient; db: Db };
  }
}

export interface PrimaryStoreOptions {
  uri: string;
  /** Driver overrides (a shorter server selection timeout; tests: a shorter heartbeat). */
  mongo?: MongoClientOptions;
  /**
   * Whether /readyz waits for the store. Ingest says no: only its replay needs the store, and an
   * unready ingest would leave the gateway's pool, so a store outage would stop event intake.
   */
  required?: boolean;
}

/**
 * The MongoClient on the primary, for the writer and for ingest's replay; the driver connects
 * lazily. Its readiness check is a real read, within the shared readiness bound.
 */
export const primaryStorePlugin = fp(
  async (app: FastifyInstance, options: PrimaryStoreOptions) => {
    const client = createWriteClient(options.uri, options.mongo);
    const db = client.db(STORE.database);
    app.decorate('primaryStore', { client, db });
    app.addReadinessCheck('store', () => probeStoreRead(db), { required: options.required ?? true });
    app.addHook('onClose', async () => {
      await client.close();
    });
  },
  { name: 'splitstream-primary-store', dependencies: ['splitstream-observability'] },
);
