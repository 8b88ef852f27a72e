import { EXTENSION_NAME_PATTERN, tokenPattern } from '@splitstream/shared';
import { loadIngestConfig } from '../src/config';
import { CONTENT_ENCODING_PATTERN } from '../src/domain/body';
import { ingestInstance } from './helpers';

describe('ingest OpenAPI document', () => {
  it('describes both public routes with tags, examples and every error response', async () => {
    // The document does not need a broker: an unreachable one keeps the test independent.
    const server = await ingestInstance(loadIngestConfig({ KAFKA_BROKERS: '127.0.0.1:1' }));
    const response = await server.inject('/openapi.json');
    expect(response.statusCode).toBe(200);
    const doc = response.json();
    expect(doc.info.title).toBe('Splitstream ingest');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/deadletters/replay',
      '/v1/events',
      '/v1/events/batch',
    ]);
    // @fastify/swagger rewrites patternProperties into additionalProperties; the document keeps the
    // extension attribute rule (names of 1-20 lower-case letters or digits other than a defined attribute's).
    const cloudEvent = doc.components.schemas.CloudEvent;
    expect(Object.keys(cloudEvent.patternProperties)).toEqual([EXTENSION_NAME_PATTERN]);
    expect(cloudEvent.additionalProperties).toBe(false);
    for (const [path, types] of [
      ['/v1/events', ['application/json', 'application/cloudevents+json']],
      ['/v1/events/batch', ['application/json', 'application/cloudevents-batch+json']],
    ] as const) {
      const op = doc.paths[path].post;
      expect(op.tags).toEqual(['events']);
      expect(Object.keys(op.requestBody.content)).toEqual(types);
      expect(op.requestBody.required).toBe(true);
      expect(op.parameters).toEqual([
        expect.objectContaining({
          in: 'header',
          name: 'content-encoding',
          schema: expect.objectContaining({ pattern: CONTENT_ENCODING_PATTERN }),
        }),
      ]);
      const token = op.responses['202'].content['application/json'].schema.properties.token;
      expect(token.pattern).toBe(tokenPattern('events'));
      for (const type of types) expect(op.requestBody.content[type].example).toBeDefined();
      expect(Object.keys(op.responses).sort()).toEqual(['202', '400', '401', '403', '413', '415', '503']);
      expect(op.responses['202'].content['application/json'].example.token).toEqual(expect.any(String));
      for (const status of ['400', '401', '403', '413', '415', '503']) {
        const problem = op.responses[status].content['application/problem+json'];
        expect(problem.schema.examples[0].status).toBe(Number(status));
      }
      expect(op.responses['503'].headers['Retry-After']).toBeDefined();
    }
    await server.close();
  });

  it('describes the dead-letter replay: request, both answers and every error response', async () => {
    const server = await ingestInstance(loadIngestConfig({ KAFKA_BROKERS: '127.0.0.1:1' }));
    const doc = (await server.inject('/openapi.json')).json();
    const op = doc.paths['/v1/deadletters/replay'].post;
    expect(op.tags).toEqual(['dead letters']);
    expect(Object.keys(op.requestBody.content)).toEqual(['application/json']);
    expect(op.requestBody.required).toBe(true);
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(['content-encoding']);
    const body = op.requestBody.content['application/json'];
    expect(body.example).toMatchObject({ dryRun: true });
    expect(Object.keys(body.schema.properties).sort()).toEqual([
      'cursor',
      'dryRun',
      'filter',
      'includeReplayed',
      'limit',
    ]);
    expect(Object.keys(body.schema.properties.filter.properties).sort()).toEqual([
      'ids',
      'reason',
      'since',
      'source',
      'type',
      'until',
    ]);
    expect(Object.keys(op.responses).sort()).toEqual(['200', '202', '400', '401', '403', '415', '503']);
    expect(op.responses['200'].content['application/json'].example.dryRun).toBe(true);
    expect(op.responses['202'].content['application/json'].example.token).toEqual(expect.any(String));
    for (const status of ['400', '401', '403', '415', '503']) {
      const problem = op.responses[status].content['application/problem+json'];
      expect(problem.schema.examples[0].status).toBe(Number(status));
    }
    expect(op.responses['400'].content['application/problem+json'].schema.examples[0].errors[0].field).toBe(
      '/filter/since',
    );
    expect(op.responses['503'].headers['Retry-After']).toBeDefined();
    await server.close();
  });
});
