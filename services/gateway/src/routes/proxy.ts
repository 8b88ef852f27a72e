import rateLimit from '@fastify/rate-limit';
import { RateLimitedError, signPrincipal } from '@splitstream/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyStore } from '../auth/api-keys';
import { authenticate } from '../auth/authenticate';
import type { GatewayConfig } from '../config';
import { clientResponseHeaders, upstreamRequestHeaders } from '../upstream/headers';
import { BODY_KINDS, PUBLIC_ROUTES, type PublicRoute } from './table';

export interface ProxyRoutesOptions {
  config: GatewayConfig;
  apiKeys: ApiKeyStore;
}

/**
 * The public routes: authenticate (onRequest), rate-limit per key (preParsing, so a throttled or
 * unauthenticated body is never read), read the body as raw bytes within the route's limit, then
 * forward to a balanced upstream instance with the signed principal.
 */
export async function proxyRoutes(app: FastifyInstance, options: ProxyRoutesOptions): Promise<void> {
  const { config, apiKeys } = options;

  // Bodies are forwarded byte for byte (gzip included): the services parse and validate them.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  await app.register(rateLimit, {
    hook: 'preParsing',
    enableDraftSpec: true,
    keyGenerator: (request) => `key:${request.apiKey?.id ?? request.ip}`,
    max: (request) => request.apiKey?.rateLimit ?? config.RATE_LIMIT_MAX,
    timeWindow: config.RATE_LIMIT_WINDOW_MS,
    errorResponseBuilder: (_request, context) =>
      new RateLimitedError(
        `rate limit of ${context.max} requests per window exceeded, retry in ${context.after}`,
        {
          retryAfterSeconds: Math.ceil(context.ttl / 1000),
        },
      ),
  });

  const bodyLimit = (route: PublicRoute) =>
    route.body === BODY_KINDS.batch ? config.BATCH_BODY_LIMIT_BYTES : config.EVENT_BODY_LIMIT_BYTES;

  for (const route of PUBLIC_ROUTES) {
    const group = app.upstreams[route.upstream];
    app.route({
      method: route.method,
      url: route.url,
      exposeHeadRoute: false,
      ...(route.body === BODY_KINDS.none ? {} : { bodyLimit: bodyLimit(route) }),
      schema: { hide: true },
      onRequest: authenticate(apiKeys, route.scope),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const key = request.apiKey;
        if (!key) throw new Error('route reached without an authenticated key');
        const principal = signPrincipal(config.INTERNAL_AUTH_SECRET, {
          tenant: key.tenant,
          scopes: key.scopes,
        });
        const headers = upstreamRequestHeaders(
          request.headers,
          { ...principal, 'x-request-id': request.id },
          { ip: request.ip, protocol: request.protocol },
        );
        const response = await group.forward({
          method: route.method,
          path: request.url,
          headers,
          body: Buffer.isBuffer(request.body) ? request.body : undefined,
          idempotent: route.method === 'GET',
          logger: request.log,
        });
        request.log.debug({ upstream: route.upstream, instance: response.instance }, 'forwarded');
        return reply
          .code(response.statusCode)
          .headers(clientResponseHeaders(response.headers))
          .header('x-request-id', request.id)
          .send(response.body);
      },
    });
  }
}
