import SwaggerParser from '@apidevtools/swagger-parser';
import { PUBLIC_ROUTES } from '@splitstream/shared';
import { mergeOpenApi, type OpenApiDocument } from '../../src/openapi/merge';

const problem = { type: 'object', properties: { title: { type: 'string' } } };
const ingest: OpenApiDocument = {
  openapi: '3.1.0',
  info: { title: 'ingest', version: '1' },
  tags: [{ name: 'events' }],
  components: {
    schemas: { Problem: problem, 'def-0': { type: 'object', properties: { id: { type: 'string' } } } },
  },
  paths: {
    '/v1/events': {
      post: {
        tags: ['events'],
        requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/def-0' } } } },
        parameters: [{ in: 'header', name: 'x-splitstream-tenant', schema: { type: 'string' } }],
        responses: {
          '202': {
            description: 'accepted',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/def-0' } } },
          },
          '401': { description: 'missing internal credentials' },
          '503': { description: 'Kafka unavailable' },
        },
      },
    },
    '/internal/thing': { get: { responses: { '200': { description: 'not public' } } } },
  },
};
const query: OpenApiDocument = {
  openapi: '3.1.0',
  info: { title: 'query', version: '1' },
  tags: [{ name: 'events' }, { name: 'stats' }],
  components: {
    schemas: { Problem: problem, 'def-0': { type: 'object', properties: { items: { type: 'array' } } } },
  },
  paths: {
    '/v1/events/{id}': {
      get: {
        parameters: [{ in: 'path', name: 'id', required: true, schema: { type: 'string' } }],
        responses: {
          '200': {
            description: 'one',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/def-0' } } },
          },
        },
      },
    },
  },
};

/** A value deep in a JSON document, or undefined. */
const dig = (value: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);

describe('merged OpenAPI document', () => {
  const merged = mergeOpenApi(
    [
      { name: 'ingest', document: ingest },
      { name: 'query', document: query },
    ],
    {
      routes: PUBLIC_ROUTES,
      info: { title: 'Splitstream API', version: '1.0.0', description: 'd' },
      rateLimitWindowSeconds: 60,
    },
  );

  it('is a valid OpenAPI 3.1 document', async () => {
    await expect(SwaggerParser.validate(structuredClone(merged) as never)).resolves.toBeDefined();
  });

  it('keeps only the routed operations, at their public paths', () => {
    expect(Object.keys(merged.paths ?? {})).toEqual(['/v1/events', '/v1/events/{id}']);
    expect(Object.keys(merged.paths?.['/v1/events'] ?? {})).toEqual(['post']);
    expect(merged.tags?.map((t) => t.name)).toEqual(['events', 'stats']);
  });

  it('renames clashing components and their references, and shares identical ones', () => {
    const schemas = merged.components?.schemas ?? {};
    expect(Object.keys(schemas).sort()).toEqual(['Problem', 'def-0', 'query-def-0']);
    const ref = (path: string, method: string, status: string) =>
      dig(merged.paths, path, method, 'responses', status, 'content', 'application/json', 'schema', '$ref');
    expect(ref('/v1/events/{id}', 'get', '200')).toBe('#/components/schemas/query-def-0');
    expect(ref('/v1/events', 'post', '202')).toBe('#/components/schemas/def-0');
  });

  it('adds the API key security and the gateway’s error responses to every operation', () => {
    expect(Object.keys(merged.components?.securitySchemes ?? {})).toEqual(['bearerAuth', 'apiKeyAuth']);
    for (const item of Object.values(merged.paths ?? {})) {
      for (const operation of Object.values(item)) {
        expect(dig(operation, 'security')).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }]);
        for (const status of ['401', '403', '429', '431', '502', '503', '504']) {
          expect(dig(operation, 'responses', status)).toBeDefined();
        }
        expect(dig(operation, 'responses', '401', '$ref')).toBe('#/components/responses/Unauthorized');
        expect(dig(operation, 'responses', '431', '$ref')).toBe(
          '#/components/responses/RequestHeaderFieldsTooLarge',
        );
      }
    }
    const post = dig(merged.paths, '/v1/events', 'post');
    expect(dig(post, 'responses', '503', 'description')).toBe('Kafka unavailable');
    expect(dig(post, 'responses', '413', '$ref')).toBe('#/components/responses/PayloadTooLarge');
    // The internal proof headers are not part of the public API.
    expect(dig(post, 'parameters')).toBeUndefined();
  });
});
