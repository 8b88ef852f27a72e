import { buildApp } from './helpers';

interface Operation {
  tags?: string[];
  summary?: string;
  parameters: { in: string; name: string; example?: unknown; examples?: unknown }[];
  responses: Record<
    string,
    { headers?: Record<string, unknown>; content?: Record<string, { schema: { examples?: unknown[] } }> }
  >;
}

describe('OpenAPI document', () => {
  it('describes every public route with tags, examples, freshness headers and its errors', async () => {
    const { server } = await buildApp();
    try {
      const doc = (await server.inject('/openapi.json')).json() as {
        info: { title: string };
        paths: Record<string, Record<string, Operation>>;
      };
      expect(doc.info.title).toBe('Splitstream query');
      expect(Object.keys(doc.paths).sort()).toEqual([
        '/v1/deadletters',
        '/v1/events',
        '/v1/events/{id}',
        '/v1/events/{id}/status',
        '/v1/pipeline',
        '/v1/stats',
      ]);
      const expectedStatuses: Record<string, string[]> = {
        '/v1/events/{id}': ['200', '400', '401', '403', '404', '409', '503'],
        '/v1/events/{id}/status': ['200', '400', '401', '403', '409', '503'],
      };
      for (const [path, operations] of Object.entries(doc.paths)) {
        const op = operations.get as Operation;
        expect(op.tags?.length).toBeGreaterThan(0);
        expect(op.summary).toBeTruthy();
        expect(Object.keys(op.responses).sort()).toEqual(
          expectedStatuses[path] ?? ['200', '400', '401', '403', '503'],
        );
        expect(Object.keys(op.responses['200']?.headers ?? {})).toEqual([
          'Splitstream-Served-By',
          'Splitstream-Applied-Time',
          'Splitstream-Staleness-Ms',
        ]);
        // @fastify/swagger turns a schema's `examples` into `example` (OpenAPI 3.0 style).
        const media = op.responses['200']?.content?.['application/json'] as {
          schema: Record<string, unknown>;
        };
        expect([path, media.schema.example ?? media.schema.examples]).not.toEqual([path, undefined]);
        expect(Object.keys(op.responses['503']?.headers ?? {})).toEqual(['Retry-After']);
        for (const status of ['400', '401', '403', '503']) {
          expect(Object.keys(op.responses[status]?.content ?? {})).toEqual(['application/problem+json']);
        }
        for (const parameter of op.parameters.filter((p) => p.in === 'query' || p.in === 'path')) {
          expect([parameter.name, parameter.example ?? parameter.examples]).not.toEqual([
            parameter.name,
            undefined,
          ]);
        }
        expect(op.parameters.some((p) => p.in === 'header' && p.name === 'consistency-token')).toBe(true);
      }
    } finally {
      await server.close();
    }
  });
});
