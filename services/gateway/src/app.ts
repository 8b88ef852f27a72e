import cors from '@fastify/cors';
import {
  CLIENT_REQUEST_HEADERS,
  CLIENT_RESPONSE_HEADERS,
  HTTP_SERVER_OPTIONS,
  headerDisplayName,
  MAX_EVENT_ID_PARAM_LENGTH,
  observabilityPlugin,
  PUBLIC_HEADERS,
  problemPlugin,
} from '@splitstream/shared';
import type { FastifyPluginAsync, FastifyServerOptions } from 'fastify';
import { ApiKeyStore, loadApiKeys } from './auth/api-keys';
import { KeyFileReloader } from './auth/key-file';
import type { GatewayConfig } from './config';
import { consolePlugin } from './plugins/console';
import { docsPlugin } from './plugins/docs';
import { upstreamsPlugin } from './plugins/upstreams';
import { requestId } from './request-id';
import { proxyRoutes } from './routes/proxy';

export interface AppOptions {
  config: GatewayConfig;
}

/** Server options the gateway needs (server.ts and tests build Fastify with them). */
export const GATEWAY_SERVER_OPTIONS = Object.freeze({
  ...HTTP_SERVER_OPTIONS,
  // The id comes from the client's X-Request-Id when it is a sane value, else a fresh UUID.
  requestIdHeader: false,
  genReqId: requestId,
  requestIdLogLabel: 'requestId',
  routerOptions: { maxParamLength: MAX_EVENT_ID_PARAM_LENGTH },
}) satisfies FastifyServerOptions;

/** Headers a browser client may read from our responses: the public ones, and the gateway's rate limits. */
const EXPOSED_HEADERS = [
  ...CLIENT_RESPONSE_HEADERS,
  'ratelimit-limit',
  'ratelimit-remaining',
  'ratelimit-reset',
  'location',
  'etag',
].map(headerDisplayName);

/** The gateway service as a plugin: tests register it without listening, server.ts listens. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify, { config }) => {
  const file = config.API_KEYS_FILE;
  // The version is taken before the read, so a change made while reading is seen by the first check.
  const loadedVersion = file ? KeyFileReloader.versionOf(file) : '';
  const apiKeys = new ApiKeyStore(loadApiKeys({ file, inline: config.API_KEYS }));
  if (apiKeys.size === 0)
    fastify.log.warn('no API keys configured (API_KEYS_FILE, API_KEYS): every request gets 401');
  if (file) {
    const reloader = new KeyFileReloader(
      {
        file,
        inline: config.API_KEYS,
        store: apiKeys,
        intervalMs: config.API_KEYS_RELOAD_MS,
        log: fastify.log.child({ component: 'api-keys' }),
      },
      loadedVersion,
    );
    fastify.addHook('onReady', async () => reloader.start());
    fastify.addHook('onClose', async () => reloader.stop());
  }

  fastify.addHook('onRequest', async (request, reply) => {
    reply.header(PUBLIC_HEADERS.requestId, request.id);
  });
  await fastify.register(problemPlugin);
  await fastify.register(observabilityPlugin, { service: 'gateway' });
  if (config.CORS_ORIGINS) {
    const origins = config.CORS_ORIGINS.split(',').map((o) => o.trim());
    await fastify.register(cors, {
      origin: origins.includes('*') ? '*' : origins,
      methods: ['GET', 'POST'],
      allowedHeaders: CLIENT_REQUEST_HEADERS.map(headerDisplayName),
      exposedHeaders: EXPOSED_HEADERS,
      maxAge: 600,
    });
  }
  await fastify.register(upstreamsPlugin, { config });
  await fastify.register(docsPlugin, { config });
  await fastify.register(consolePlugin);
  await fastify.register(proxyRoutes, { config, apiKeys });
};

export default app;
