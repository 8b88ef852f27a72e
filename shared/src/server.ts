import closeWithGrace from 'close-with-grace';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { loggerOptions } from './logger';

export interface RunServerOptions<C> {
  service: string;
  config: C & { HOST: string; LOG_LEVEL: string };
  port: number;
  /** The service's app plugin (app.ts): registered with the config as its options. */
  app: FastifyPluginAsync<{ config: C }>;
  /** Extra Fastify server options (body limit, trust proxy…). */
  serverOptions?: Record<string, unknown>;
}

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Builds the Fastify instance, listens and closes gracefully on SIGTERM/SIGINT: stop accepting,
 * let plugins' onClose hooks flush and disconnect, then exit. The one server.ts of every service.
 */
export async function runServer<C>(options: RunServerOptions<C>): Promise<FastifyInstance> {
  const server = Fastify({
    logger: loggerOptions(options.service, options.config.LOG_LEVEL),
    requestIdHeader: 'x-request-id',
    requestIdLogLabel: 'requestId',
    genReqId: () => crypto.randomUUID(),
    disableRequestLogging: false,
    ...options.serverOptions,
  });
  await server.register(options.app, { config: options.config });

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) server.log.error({ err }, 'shutting down after an unexpected error');
    else server.log.info({ signal }, 'shutting down');
    await server.close();
  });

  await server.listen({ host: options.config.HOST, port: options.port });
  return server;
}
