import {
  type ConsistencyToken,
  decodeToken,
  isTimeLimitExceeded,
  LATENCY_BUCKETS,
  metricsIn,
  PUBLIC_HEADERS,
  UnavailableError,
  ValidationError,
  withTimeout,
} from '@splitstream/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { QueryConfig } from '../../config';
import {
  CheckpointCache,
  type CheckpointView,
  ConsistencyTimeout,
  stalenessMs,
  waitForToken,
} from '../../domain/checkpoints';
import type { Endpoint, ServedBy } from '../../domain/endpoints';
import type { StoreRead } from '../../domain/store-read';

export interface ConsistencyParams {
  after?: string;
  maxWaitMs?: number;
}

export interface ReadService {
  /**
   * Runs `operation` on the replica (the primary when the replica is unavailable), first waiting,
   * when the request carries a consistency token, until that endpoint has applied it; then sets the
   * freshness headers of the endpoint that answered. Every query carries READ_MAX_TIME_MS: past
   * it, 503 + Retry-After naming the bound (the endpoint stays in rotation: the query was slow).
   */
  serve<T>(
    request: FastifyRequest,
    reply: FastifyReply,
    params: ConsistencyParams,
    operation: (store: StoreRead) => Promise<T>,
  ): Promise<T>;
}

/** The store gave up on a read at its time bound: 503, the endpoint stays in rotation. */
export class ReadTimeLimitError extends UnavailableError {}

declare module 'fastify' {
  interface FastifyInstance {
    reads: ReadService;
  }
}

/** A metrics scrape waits at most this for an endpoint's checkpoints (a scrape must not hang). */
const SCRAPE_LOOKUP_TIMEOUT_MS = 500;

export const readsPlugin = fp(
  async (app: FastifyInstance, options: { config: QueryConfig }) => {
    const { config } = options;
    const storeRead = (endpoint: Endpoint): StoreRead => ({
      db: endpoint.db,
      maxTimeMS: config.READ_MAX_TIME_MS,
    });
    const caches = new Map<ServedBy, CheckpointCache>([
      [app.readRouter.replica.name, new CheckpointCache(storeRead(app.readRouter.replica))],
      [app.readRouter.primary.name, new CheckpointCache(storeRead(app.readRouter.primary))],
    ]);
    const { counter, gauge, histogram } = metricsIn(app.metrics);
    gauge(
      'query_replica_staleness_seconds',
      'Upper bound of how stale a read on the endpoint is: now minus the time up to which it has applied every event',
      ['endpoint'],
      async (staleness) => {
        await Promise.all(
          [...caches].map(async ([endpoint, cache]) => {
            try {
              const view = await withTimeout(
                cache.get(config.KAFKA_TOPIC, config.FRESHNESS_CACHE_MS),
                SCRAPE_LOOKUP_TIMEOUT_MS,
              );
              if (view.appliedAsOf) staleness.set({ endpoint }, stalenessMs(view.appliedAsOf) / 1000);
            } catch {
              // An endpoint that does not answer has no staleness to report: query_store_endpoint_up says it is down.
            }
          }),
        );
      },
    );
    const readDuration = histogram(
      'query_read_duration_seconds',
      'Store read latency (including any read-your-writes wait) by route and the endpoint that served it',
      LATENCY_BUCKETS,
      ['route', 'served_by'],
    );
    const waits = counter(
      'query_consistency_waits_total',
      'Reads with a consistency token by outcome: satisfied at once, after waiting, or timed out (503)',
      ['outcome'],
    );
    const timeLimited = counter(
      'query_read_time_limit_exceeded_total',
      'Reads the store gave up on at READ_MAX_TIME_MS (answered 503), by route and endpoint',
      ['route', 'served_by'],
    );
    const waitDuration = histogram(
      'query_consistency_wait_seconds',
      'Time reads with a consistency token waited for the endpoint to apply it',
    );

    const tokenOf = (request: FastifyRequest, params: ConsistencyParams): ConsistencyToken | undefined => {
      const header = request.headers[PUBLIC_HEADERS.consistencyToken];
      const [value, field] =
        params.after !== undefined
          ? [params.after, 'querystring.after']
          : [typeof header === 'string' ? header : undefined, `headers.${PUBLIC_HEADERS.consistencyToken}`];
      if (value === undefined) return undefined;
      let token: ConsistencyToken;
      try {
        token = decodeToken(value);
      } catch (error) {
        throw new ValidationError(`${field}: the consistency token is not one this service issued`, {
          cause: error,
          errors: [{ field, message: 'is not a valid consistency token' }],
        });
      }
      if (token.topic !== config.KAFKA_TOPIC) {
        throw new ValidationError(
          `${field}: the consistency token is for topic ${token.topic}, this service reads ${config.KAFKA_TOPIC}`,
          {
            errors: [{ field, message: `is for another topic than ${config.KAFKA_TOPIC}` }],
          },
        );
      }
      return token;
    };

    const setFreshness = (reply: FastifyReply, servedBy: ServedBy, view: CheckpointView | undefined) => {
      reply.header(PUBLIC_HEADERS.servedBy, servedBy);
      // Before the writer wrote any checkpoint there is no freshness to report: the headers are absent.
      if (view?.appliedAsOf) {
        reply.header(PUBLIC_HEADERS.appliedTime, view.appliedAsOf.toISOString());
        reply.header(PUBLIC_HEADERS.staleness, String(stalenessMs(view.appliedAsOf)));
      }
    };

    const service: ReadService = {
      async serve(request, reply, params, operation) {
        const token = tokenOf(request, params);
        const maxWaitMs = params.maxWaitMs ?? config.READ_MAX_WAIT_MS;
        const started = performance.now();
        const deadline = Date.now() + maxWaitMs;
        const route = request.routeOptions.url ?? 'unmatched';
        let waited = 0;
        let lookups = 0;
        let servedBy: ServedBy | undefined;
        try {
          const routed = await app.readRouter.read(async (endpoint) => {
            servedBy = endpoint.name;
            const cache = caches.get(endpoint.name) as CheckpointCache;
            let applied: CheckpointView | undefined;
            if (token) {
              const waitStarted = performance.now();
              const lookup = () => {
                lookups += 1;
                return cache.get(token.topic, 0);
              };
              applied = await waitForToken(lookup, token, {
                deadline,
                pollMs: config.CONSISTENCY_POLL_MS,
                maxWaitMs,
              });
              waited += performance.now() - waitStarted;
            }
            try {
              const [value, view] = await Promise.all([
                operation(storeRead(endpoint)),
                applied ?? cache.get(config.KAFKA_TOPIC, config.FRESHNESS_CACHE_MS),
              ]);
              return { value, view };
            } catch (error) {
              if (!isTimeLimitExceeded(error)) throw error;
              throw new ReadTimeLimitError(
                `the ${endpoint.name} store did not finish this read within READ_MAX_TIME_MS=${config.READ_MAX_TIME_MS} ms; ` +
                  'retry later or narrow the query (a shorter time range, an exact type, source or subject)',
                { cause: error, retryAfterSeconds: 1 },
              );
            }
          });
          servedBy = routed.servedBy;
          if (token) {
            waits.inc({ outcome: lookups <= 1 ? 'immediate' : 'waited' });
            waitDuration.observe(waited / 1000);
          }
          setFreshness(reply, routed.servedBy, routed.value.view);
          return routed.value.value;
        } catch (error) {
          if (error instanceof ConsistencyTimeout) {
            waits.inc({ outcome: 'timeout' });
            waitDuration.observe(maxWaitMs / 1000);
          }
          if (error instanceof ReadTimeLimitError) timeLimited.inc({ route, served_by: servedBy ?? 'none' });
          // No endpoint answered: nothing was served (a consistency timeout names the endpoint that lagged).
          if (
            error instanceof UnavailableError &&
            !(error instanceof ConsistencyTimeout) &&
            !(error instanceof ReadTimeLimitError)
          )
            servedBy = undefined;
          if (servedBy) reply.header(PUBLIC_HEADERS.servedBy, servedBy);
          throw error;
        } finally {
          if (servedBy)
            readDuration.observe({ route, served_by: servedBy }, (performance.now() - started) / 1000);
        }
      },
    };
    app.decorate('reads', service);
  },
  { name: 'query-reads', dependencies: ['query-store', 'splitstream-observability'] },
);
