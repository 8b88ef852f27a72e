import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export interface OpenApiOptions {
  title: string;
  description: string;
  version?: string;
}

type Json = Record<string, unknown>;

/**
 * Undoes what @fastify/swagger changes on the way to OpenAPI, so the document says exactly what the
 * routes accept:
 * - it rewrites `patternProperties` into `additionalProperties` (OpenAPI 3.0 had no such keyword;
 *   3.1 is JSON Schema 2020-12 and has): a shared schema registered with `addSchema` gets its own
 *   `patternProperties` and `additionalProperties` back (CloudEvent extension attribute names);
 * - it marks a request body required only for an object schema with required properties, but every
 *   body these services take is required (an array, or `{}` at the least).
 */
export function faithfulDocument<T extends object>(document: T, schemas: Record<string, unknown>): T {
  const doc = document as Json;
  const components = ((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, Json>;
  for (const [name, component] of Object.entries(components)) {
    const source = schemas[name] as Json | undefined;
    if (!source?.patternProperties) continue;
    component.patternProperties = JSON.parse(JSON.stringify(source.patternProperties));
    component.additionalProperties = source.additionalProperties ?? true;
  }
  for (const item of Object.values((doc.paths ?? {}) as Record<string, Json>)) {
    for (const operation of Object.values(item) as Json[]) {
      const body = operation?.requestBody as Json | undefined;
      if (body && !('$ref' in body)) body.required = true;
    }
  }
  return document;
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
      // Only OpenAPI documents are built here (never Swagger 2).
      transformObject: (document) =>
        'openapiObject' in document
          ? faithfulDocument(document.openapiObject, app.getSchemas())
          : document.swaggerObject,
    });
    app.get('/openapi.json', { schema: { hide: true } as object }, async () => app.swagger());
  },
  { name: 'splitstream-openapi' },
);
