import { observabilityPlugin, problemPlugin } from '@splitstream/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { GatewayConfig } from './config';

export interface AppOptions {
  config: GatewayConfig;
}

/** The gateway service as a plugin: tests register it without listening, server.ts listens. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify) => {
  await fastify.register(problemPlugin);
  await fastify.register(observabilityPlugin, { service: 'gateway' });
};

export default app;
