import {
  createReadClient,
  createWriteClient,
  metricsIn,
  probeStoreRead,
  READINESS_TIMEOUT_MS,
  STORE,
  withTimeout,
} from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { MongoTopologyClosedError } from 'mongodb';
import type { QueryConfig } from '../../config';
import { Endpoint, ReadRouter, SERVED_BY } from '../../domain/endpoints';

declare module 'fastify' {
  interface FastifyInstance {
    /** The replica and primary endpoints, and which of them serves a read. */
    readRouter: ReadRouter;
  }
}

/**
 * The two store endpoints and the router between them. Both clients heartbeat their endpoint, so a
 * stopped endpoint is noticed (and a recovered one taken back) without a read having to fail first.
 */
const ENDPOINT_PROBE_TIMEOUT_MS = READINESS_TIMEOUT_MS - 200;

export const storePlugin = fp(
  async (app: FastifyInstance, options: { config: QueryConfig }) => {
    const { config } = options;
    const monitoring = { heartbeatFrequencyMS: config.STORE_HEARTBEAT_MS };
    const replicaClient = createReadClient(config.MONGO_READ_URI, {
      ...monitoring,
      serverSelectionTimeoutMS: config.REPLICA_SELECTION_TIMEOUT_MS,
    });
    const primaryClient = createWriteClient(config.MONGO_WRITE_URI, {
      ...monitoring,
      serverSelectionTimeoutMS: config.PRIMARY_SELECTION_TIMEOUT_MS,
    });

    const { counter, gauge } = metricsIn(app.metrics);
    const up = gauge(
      'query_store_endpoint_up',
      'Whether the store endpoint is considered usable for reads (1) or not (0)',
      ['endpoint'],
    );
    const fallbacks = counter(
      'query_store_fallbacks_total',
      'Reads that failed on the read endpoint and were retried on the primary',
    );
    const report = (endpoint: Endpoint) => {
      up.set({ endpoint: endpoint.name }, endpoint.usable ? 1 : 0);
      app.log.info({ endpoint: endpoint.name, usable: endpoint.usable }, 'store endpoint state changed');
    };
    // An operation failure holds an endpoint out for two heartbeats: by then the monitor knows better.
    const holdMs = 2 * config.STORE_HEARTBEAT_MS;
    const replica = new Endpoint(SERVED_BY.replica, replicaClient, STORE.database, holdMs, report);
    const primary = new Endpoint(SERVED_BY.primary, primaryClient, STORE.database, holdMs, report);
    up.set({ endpoint: replica.name }, 1);
    up.set({ endpoint: primary.name }, 1);
    const router = new ReadRouter(replica, primary, (from, error) => {
      fallbacks.inc();
      app.log.warn(
        { endpoint: from.name, err: error },
        'read endpoint unavailable, reading from the primary',
      );
    });

    // Start without failing when an endpoint is down: reads fall back, /readyz reports it, and a
    // background loop keeps connecting until the endpoint answers (then the driver's monitor takes over).
    let closing = false;
    const timers = new Set<NodeJS.Timeout>();
    // Why each endpoint's last connect attempt failed: a failed attempt closes the client's topology
    // under any read in flight, which then only says "Topology is closed".
    const connectErrors = new Map<Endpoint, unknown>();
    const connectLater = (endpoint: Endpoint) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (closing) return;
        endpoint.client.connect().then(
          () => connectErrors.delete(endpoint),
          (error: unknown) => {
            connectErrors.set(endpoint, error);
            connectLater(endpoint);
          },
        );
      }, config.STORE_HEARTBEAT_MS);
      timer.unref();
      timers.add(timer);
    };
    await Promise.all(
      [replica, primary].map((endpoint) =>
        endpoint.client.connect().catch((error: unknown) => {
          app.log.warn({ endpoint: endpoint.name, err: error }, 'store endpoint unreachable at start');
          connectErrors.set(endpoint, error);
          connectLater(endpoint);
        }),
      ),
    );

    app.decorate('readRouter', router);
    // Ready when either endpoint can read; the detail says which one cannot, and why.
    app.addReadinessCheck('store', async () => {
      // Each endpoint within its own bound, so one that hangs cannot make the other look unready.
      const results = await router.probe((endpoint) =>
        withTimeout(probeStoreRead(endpoint.db), ENDPOINT_PROBE_TIMEOUT_MS).catch((error: unknown) => {
          throw error instanceof MongoTopologyClosedError ? (connectErrors.get(endpoint) ?? error) : error;
        }),
      );
      const failing = Object.entries(results).filter(([, detail]) => detail !== 'ok');
      if (failing.length === 2) {
        throw new Error(
          `neither endpoint can read: ${failing.map(([name, detail]) => `${name}: ${detail}`).join('; ')}`,
        );
      }
      const [failed] = failing;
      return failed ? `${failed[0]} cannot read (${failed[1]}); serving from the other endpoint` : undefined;
    });
    app.addHook('onClose', async () => {
      closing = true;
      for (const timer of timers) clearTimeout(timer);
      await Promise.allSettled([replicaClient.close(), primaryClient.close()]);
    });
  },
  { name: 'query-store', dependencies: ['splitstream-observability'] },
);
