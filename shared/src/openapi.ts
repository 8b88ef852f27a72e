import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface OpenApiOptions {
  title: string;
  description: string;
  version?: string;
}

/**
 * Builds the service's OpenAPI 3 document from its route schemas and serves it at
 * GET /openapi.json; the gateway merges the ingest and query documents into the public one.
 * Register before the routes.
 */
export const openapiPlugin = fp(
  async (app: FastifyInstance, options: OpenApiOptions) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: options.title, description: options.description, version: options.version ?? '1.0.0' },
      },
      refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    });
    app.get('/openapi.json', { schema: { hide: true } as object }, async () => app.swagger());
  },
  { name: 'splitstream-openapi' },
);
