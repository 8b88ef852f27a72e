import { splitList, UPSTREAMS, type UpstreamName } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayConfig } from '../config';
import { UpstreamGroup } from '../upstream/group';
import { createUpstreamMetrics } from '../upstream/metrics';

declare module 'fastify' {
  interface FastifyInstance {
    upstreams: Record<UpstreamName, UpstreamGroup>;
  }
}

/** The ingest and query instance pools, their health checks, and /readyz needing one healthy instance of each. */
export const upstreamsPlugin = fp(
  async (app: FastifyInstance, options: { config: GatewayConfig }) => {
    const { config } = options;
    const metrics = createUpstreamMetrics(app.metrics);
    const group = (name: UpstreamName, urls: string) =>
      new UpstreamGroup({
        name,
        urls: splitList(urls).map((u) => u.replace(/\/+$/, '')),
        connections: config.UPSTREAM_CONNECTIONS,
        connectTimeoutMs: config.UPSTREAM_CONNECT_TIMEOUT_MS,
        headersTimeoutMs: config.UPSTREAM_HEADERS_TIMEOUT_MS,
        bodyTimeoutMs: config.UPSTREAM_BODY_TIMEOUT_MS,
        healthCheckIntervalMs: config.HEALTH_CHECK_INTERVAL_MS,
        healthCheckTimeoutMs: config.HEALTH_CHECK_TIMEOUT_MS,
        ejectionThreshold: config.EJECTION_THRESHOLD,
        ejectionMinMs: config.EJECTION_MIN_MS,
        unavailableRetryAfterSeconds: config.UNAVAILABLE_RETRY_AFTER_S,
        metrics,
        logger: app.log.child({ component: 'upstream' }),
      });
    const upstreams = {
      [UPSTREAMS.ingest]: group(UPSTREAMS.ingest, config.INGEST_UPSTREAMS),
      [UPSTREAMS.query]: group(UPSTREAMS.query, config.QUERY_UPSTREAMS),
    };
    app.decorate('upstreams', upstreams);
    for (const g of Object.values(upstreams)) {
      app.addReadinessCheck(g.name, async () => {
        if (!g.isReady()) {
          const states = g
            .describe()
            .map((i) => `${i.url} ${i.available ? 'in rotation' : 'ejected'}, ${i.health}`);
          throw new Error(`no healthy ${g.name} instance (${states.join('; ')})`);
        }
      });
    }
    app.addHook('onReady', async () => {
      for (const g of Object.values(upstreams)) g.start();
    });
    app.addHook('onClose', async () => {
      await Promise.all(Object.values(upstreams).map((g) => g.close()));
    });
  },
  { name: 'gateway-upstreams', dependencies: ['splitstream-observability'] },
);
