import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { PUBLIC_ROUTES } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { GatewayConfig } from '../config';
import { MergedOpenApi } from '../openapi/cache';
import type { OpenApiDocument } from '../openapi/merge';

declare module 'fastify' {
  interface FastifyInstance {
    publicApi: MergedOpenApi;
  }
}

const DESCRIPTION = [
  'Splitstream: CloudEvents ingest and query with read/write separation.',
  '',
  'Authenticate with an API key, as `Authorization: Bearer <key>` or `X-API-Key: <key>`.',
  'Every response carries `X-Request-Id` (yours when you send one); errors are RFC 9457 problem+json.',
  'A `token` returned by a write can be passed as `after` to a read to see that write (read-your-writes).',
].join('\n');

/** GET /openapi.json (the merged public document) and Swagger UI over it at /docs. */
export const docsPlugin = fp(
  async (app: FastifyInstance, options: { config: GatewayConfig }) => {
    const { config } = options;
    const publicApi = new MergedOpenApi(
      [app.upstreams.ingest, app.upstreams.query],
      {
        routes: PUBLIC_ROUTES,
        info: { title: 'Splitstream API', version: '1.0.0', description: DESCRIPTION },
        rateLimitWindowSeconds: Math.ceil(config.RATE_LIMIT_WINDOW_MS / 1000),
        refreshMs: config.OPENAPI_REFRESH_MS,
        retryAfterSeconds: config.UNAVAILABLE_RETRY_AFTER_S,
      },
      app.log.child({ component: 'openapi' }),
    );
    app.decorate('publicApi', publicApi);

    app.get('/openapi.json', { schema: { hide: true } }, async () => publicApi.get());

    // Swagger UI needs @fastify/swagger registered; its own document is replaced by the merged one.
    await app.register(
      async (docs) => {
        let current: OpenApiDocument | undefined;
        await docs.register(swagger, { openapi: { info: { title: 'Splitstream API', version: '1.0.0' } } });
        await docs.register(swaggerUi, {
          routePrefix: '/docs',
          uiConfig: {
            docExpansion: 'list',
            deepLinking: true,
            tryItOutEnabled: false,
            persistAuthorization: true,
          },
          uiHooks: {
            onRequest: async (request) => {
              if (request.url.startsWith('/docs/json') || request.url.startsWith('/docs/yaml')) {
                current = await publicApi.get();
              }
            },
          },
          transformSpecificationClone: false,
          transformSpecification: (fallback) => current ?? fallback,
        });
      },
      { prefix: '' },
    );
  },
  { name: 'gateway-docs', dependencies: ['gateway-upstreams'] },
);
