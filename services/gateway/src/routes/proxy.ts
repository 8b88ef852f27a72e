import rateLimit from '@fastify/rate-limit';
import {
  BODY_KINDS,
  BODY_LIMITS,
  MethodNotAllowedError,
  PUBLIC_ROUTES,
  type PublicRoute,
  RateLimitedError,
  signPrincipal,
} from '@splitstream/shared';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiKeyStore } from '../auth/api-keys';
import { authenticate } from '../auth/authenticate';
import type { GatewayConfig } from '../config';
import { clientResponseHeaders, upstreamRequestHeaders } from '../upstream/headers';

/**
 * Methods answered 405 on a public path that lacks them: RFC 9110's, PATCH, and QUERY (the safe
 * method with a body of draft-ietf-httpbis-safe-method-w-body, in OpenAPI 3.2), which Node parses
 * but Fastify routes only once added.
 */
const UNDECLARED_METHODS = ['DELETE', 'GET', 'HEAD', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE'];

/** Each public path with the methods it has, in the route table's order. */
export function methodsByUrl(routes: readonly PublicRoute[]): Map<string, string[]> {
  const byUrl = new Map<string, string[]>();
  for (const route of routes) byUrl.set(route.url, [...(byUrl.get(route.url) ?? []), route.method]);
  return byUrl;
}

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

  const bodyLimits = {
    [BODY_KINDS.event]: config.EVENT_BODY_LIMIT_BYTES,
    [BODY_KINDS.batch]: config.BATCH_BODY_LIMIT_BYTES,
    [BODY_KINDS.replay]: BODY_LIMITS.replay,
  };

  // A known path asked with a method it does not have is 405 with Allow (RFC 9110), not a 404 that
  // says the resource does not exist. OPTIONS is left to CORS (its preflight route) or the 404.
  if (!app.supportedMethods.includes('QUERY')) app.addHttpMethod('QUERY', { hasBody: true });
  for (const [url, allowed] of methodsByUrl(PUBLIC_ROUTES)) {
    const allow = allowed.join(', ');
    app.route({
      method: UNDECLARED_METHODS.filter((method) => !allowed.includes(method)),
      url,
      exposeHeadRoute: false,
      schema: { hide: true },
      handler: async (request, reply) => {
        reply.header('allow', allow);
        throw new MethodNotAllowedError(
          `${request.method} is not allowed here; this resource allows ${allow}`,
        );
      },
    });
  }

  for (const route of PUBLIC_ROUTES) {
    const group = app.upstreams[route.upstream];
    app.route({
      method: route.method,
      url: route.url,
      exposeHeadRoute: false,
      ...(route.body === BODY_KINDS.none ? {} : { bodyLimit: bodyLimits[route.body] }),
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
