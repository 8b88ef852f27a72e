import { observabilityPlugin, problemPlugin } from '@splitstream/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { QueryConfig } from './config';

export interface AppOptions {
  config: QueryConfig;
}

/** The query service as a plugin: tests register it without listening, server.ts listens. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify) => {
  await fastify.register(problemPlugin);
  await fastify.register(observabilityPlugin, { service: 'query' });
};

export default app;
