import { createWriteClient, probeStoreRead, STORE } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Db, MongoClient } from 'mongodb';

declare module 'fastify' {
  interface FastifyInstance {
    /** The store's primary (write endpoint). */
    store: { client: MongoClient; db: Db };
  }
}

export interface StorePluginOptions {
  uri: string;
}

/** MongoClient on the primary, write concern majority; /readyz reads from it. The driver connects lazily. */
export const storePlugin = fp(
  async (app: FastifyInstance, options: StorePluginOptions) => {
    const client = createWriteClient(options.uri);
    const db = client.db(STORE.database);
    app.decorate('store', { client, db });
    app.addReadinessCheck('store', () => probeStoreRead(db));
    app.addHook('onClose', async () => {
      await client.close();
    });
  },
  { name: 'writer-store', dependencies: ['splitstream-observability'] },
);
