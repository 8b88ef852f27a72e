import {
  internalAuthPlugin,
  MAX_EVENT_ID_PARAM_LENGTH,
  observabilityPlugin,
  openapiPlugin,
  problemPlugin,
} from '@splitstream/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { QueryConfig } from './config';
import { readsPlugin } from './plugins/app/reads';
import { storePlugin } from './plugins/external/store';
import { routes } from './routes';

/** Fastify server options the query service needs (server.ts and tests build the instance). */
export const SERVER_OPTIONS = Object.freeze({ routerOptions: { maxParamLength: MAX_EVENT_ID_PARAM_LENGTH } });

export interface AppOptions {
  config: QueryConfig;
  /** Process-wide default metrics: on in the server, off in tests that build many apps. */
  defaultMetrics?: boolean;
}

/** The query service as a plugin: tests register it without listening, server.ts listens. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify, options) => {
  const { config } = options;
  await fastify.register(problemPlugin);
  await fastify.register(observabilityPlugin, {
    service: 'query',
    defaultMetrics: options.defaultMetrics ?? false,
  });
  await fastify.register(internalAuthPlugin, { secret: config.INTERNAL_AUTH_SECRET });
  await fastify.register(openapiPlugin, {
    title: 'Splitstream query',
    description:
      'Reads of your events from the store replicas: lists, lookups, status, stats and dead letters, with ' +
      'read-your-writes tokens and a freshness header on every answer.',
  });
  await fastify.register(storePlugin, { config });
  await fastify.register(readsPlugin, { config });
  await fastify.register(routes, { config });
};

export default app;
