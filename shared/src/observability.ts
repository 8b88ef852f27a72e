import type { FastifyInstance, FastifySchema } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { LATENCY_BUCKETS, metricsIn } from './metrics';

/**
 * A named dependency check for /readyz; resolves when the dependency can serve (to a string: a
 * detail to report instead of "ok", e.g. a degraded but serving state), throws otherwise.
 */
export type ReadinessCheck = () => Promise<unknown>;

export interface ReadinessCheckOptions {
  /** Default true: a failing check makes /readyz 503. */
  required?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** This app's Prometheus registry: one per app, so tests can build many apps in one process. */
    metrics: Registry;
    /**
     * Adds a dependency that /readyz must see answering. `required: false` reports it in `checks`
     * without making the instance unready: for a dependency only some routes need, so its outage
     * does not take the instance out of the gateway's pool.
     */
    addReadinessCheck(name: string, check: ReadinessCheck, options?: ReadinessCheckOptions): void;
  }
}

export interface ObservabilityOptions {
  service: string;
  /** Process-wide default metrics (event loop lag, memory): on in servers, off in tests. */
  defaultMetrics?: boolean;
}

/**
 * Longest a check may take: /readyz answers within this, whatever its dependencies do, so a probe
 * with a longer timeout (the gateway's is 2.5 s) never mistakes a slow dependency for a dead instance.
 */
export const READINESS_TIMEOUT_MS = 1_000;

const HealthResponse = {
  type: 'object',
  properties: {
    status: { type: 'string' },
    checks: { type: 'object', additionalProperties: { type: 'string' } },
  },
} as const;

/** /healthz (alive), /readyz (dependencies answer), /metrics (Prometheus text) and request metrics. */
export const observabilityPlugin = fp(
  async (app: FastifyInstance, options: ObservabilityOptions) => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: options.service });
    if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
    const checks = new Map<string, { check: ReadinessCheck; required: boolean }>();

    app.decorate('metrics', registry);
    app.decorate(
      'addReadinessCheck',
      (name: string, check: ReadinessCheck, checkOptions: ReadinessCheckOptions = {}) => {
        checks.set(name, { check, required: checkOptions.required ?? true });
      },
    );

    const httpDuration = metricsIn(registry).histogram(
      'http_request_duration_seconds',
      'HTTP request latency by route and status',
      LATENCY_BUCKETS,
      ['method', 'route', 'status'],
    );
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      httpDuration.observe(
        { method: request.method, route, status: String(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
    });

    // Operational routes stay out of the public OpenAPI document (`hide` is read by @fastify/swagger).
    const internal = { hide: true, tags: ['operations'] } as FastifySchema;
    app.get(
      '/healthz',
      { schema: { ...internal, response: { 200: HealthResponse } }, logLevel: 'warn' },
      async () => ({
        status: 'ok',
      }),
    );

    app.get(
      '/readyz',
      { schema: { ...internal, response: { 200: HealthResponse, 503: HealthResponse } }, logLevel: 'warn' },
      async (_request, reply) => {
        const results: Record<string, string> = {};
        let ready = true;
        await Promise.all(
          [...checks].map(async ([name, { check, required }]) => {
            try {
              const detail = await withTimeout(check(), READINESS_TIMEOUT_MS);
              results[name] = typeof detail === 'string' ? detail : 'ok';
            } catch (error) {
              if (required) ready = false;
              results[name] = error instanceof Error ? error.message : String(error);
            }
          }),
        );
        return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
      },
    );

    app.get('/metrics', { schema: internal, logLevel: 'warn' }, async (_request, reply) =>
      reply.type(registry.contentType).send(await registry.metrics()),
    );
  },
  { name: 'splitstream-observability' },
);

/** Rejects with "no answer within N ms" when `promise` has not settled by then. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
