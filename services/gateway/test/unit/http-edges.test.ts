/**
 * What the gateway answers before any upstream is involved, as the OpenAPI document says: 405 with
 * Allow for a method a public path does not have, and 431 problem+json for oversized headers.
 */
import { request as httpRequest } from 'node:http';
import { MAX_HEADER_BYTES, PUBLIC_ROUTES } from '@splitstream/shared';
import { methodsByUrl } from '../../src/routes/proxy';
import { makeKeys, type RunningGateway, startGateway } from '../support';

const { json } = makeKeys('acme', 'globex');

describe('gateway HTTP edges (no upstream reached)', () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    // Upstreams on a port nothing listens on: nothing here may need one.
    gateway = await startGateway({
      API_KEYS: json,
      INGEST_UPSTREAMS: 'http://127.0.0.1:9',
      QUERY_UPSTREAMS: 'http://127.0.0.1:9',
    });
  });
  afterAll(() => gateway?.close());

  it('knows each public path with all its methods', () => {
    expect(methodsByUrl(PUBLIC_ROUTES).get('/v1/events')).toEqual(['POST', 'GET']);
    expect(methodsByUrl(PUBLIC_ROUTES).get('/v1/stats')).toEqual(['GET']);
  });

  it.each([
    ['TRACE', '/v1/events', 'POST, GET'],
    ['DELETE', '/v1/events/abc', 'GET'],
    ['PUT', '/v1/events/batch', 'POST'],
    ['GET', '/v1/deadletters/replay', 'POST'],
    ['PATCH', '/v1/stats', 'GET'],
    ['QUERY', '/v1/deadletters', 'GET'],
    ['HEAD', '/v1/events/abc/status', 'GET'],
  ])('answers %s %s with 405 problem+json and Allow: %s', async (method, url, allow) => {
    const response = await gateway.app.inject({ method: method as 'GET', url });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe(allow);
    if (method !== 'HEAD') {
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({ status: 405, title: 'Method Not Allowed', instance: url });
    }
  });

  it('still answers 404 for a path that is not public', async () => {
    expect((await gateway.app.inject({ method: 'TRACE', url: '/v1/nothing' })).statusCode).toBe(404);
  });

  const rawGet = (headers: Record<string, string>) =>
    new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/v1/events`, { headers }, (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
        );
      });
      req.on('error', reject);
      req.end();
    });

  it('takes headers up to the documented size, and answers 431 problem+json past it', async () => {
    // Past Node's 16 KiB default: a request the document allows (long filters, cursor, token).
    expect((await rawGet({ 'x-filler': 'a'.repeat(64 * 1024) })).status).toBe(401);
    const tooLarge = await rawGet({ 'x-filler': 'a'.repeat(MAX_HEADER_BYTES) });
    expect(tooLarge.status).toBe(431);
    expect(tooLarge.type).toBe('application/problem+json');
    expect(JSON.parse(tooLarge.body)).toMatchObject({
      status: 431,
      title: 'Request Header Fields Too Large',
    });
  });
});
