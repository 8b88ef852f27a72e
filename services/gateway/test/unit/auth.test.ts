import { buildService } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import { app, GATEWAY_SERVER_OPTIONS } from '../../src/app';
import { loadGatewayConfig } from '../../src/config';
import { makeKeys, SECRET } from '../support';

const { keys, json } = makeKeys('acme', 'globex');

describe('gateway authentication (no upstream reached)', () => {
  let server: FastifyInstance;
  beforeAll(async () => {
    // Upstreams on a port nothing listens on: any request that got past auth would answer 503.
    const config = loadGatewayConfig({
      API_KEYS: json,
      INTERNAL_AUTH_SECRET: SECRET,
      INGEST_UPSTREAMS: 'http://127.0.0.1:9',
      QUERY_UPSTREAMS: 'http://127.0.0.1:9',
      LOG_LEVEL: 'silent',
    });
    server = await buildService({ service: 'gateway', config, app, serverOptions: GATEWAY_SERVER_OPTIONS });
  });
  afterAll(() => server.close());

  it.each([
    ['no key', {}],
    ['an unknown bearer key', { authorization: 'Bearer sk_nope' }],
    ['an unknown X-API-Key', { 'x-api-key': 'sk_nope' }],
    ['another scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['a bearer without a key', { authorization: 'Bearer ' }],
  ])('answers 401 problem+json for %s', async (_what, headers) => {
    const response = await server.inject({ url: '/v1/events', headers });
    expect(response.statusCode).toBe(401);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['www-authenticate']).toMatch(/^Bearer realm="splitstream"/);
    expect(response.json()).toMatchObject({ status: 401, title: 'Unauthorized', instance: '/v1/events' });
  });

  it.each([
    ['GET', '/v1/events', keys.writeOnly, 'events:read'],
    ['GET', '/v1/stats', keys.writeOnly, 'events:read'],
    ['GET', '/v1/deadletters', keys.writeOnly, 'events:read'],
    ['POST', '/v1/events', keys.readOnly, 'events:write'],
    ['POST', '/v1/events/batch', keys.readOnly, 'events:write'],
    ['POST', '/v1/deadletters/replay', keys.readWrite, 'events:admin'],
    ['POST', '/v1/events', keys.admin, 'events:write'],
  ] as const)('answers 403 for %s %s without the scope', async (method, url, key, scope) => {
    const response = await server.inject({ method, url, headers: { 'x-api-key': key.key }, payload: '[]' });
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toContain(scope);
  });

  it('lets a key with the scope through to the (missing) upstream', async () => {
    const response = await server.inject({
      url: '/v1/events',
      headers: { authorization: `bearer ${keys.readOnly.key}` },
    });
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBeDefined();
    const replay = await server.inject({
      method: 'POST',
      url: '/v1/deadletters/replay',
      headers: { 'x-api-key': keys.admin.key, 'content-type': 'application/json' },
      payload: '{"dryRun":true}',
    });
    expect(replay.statusCode).toBe(503);
  });

  it('rate-limits per key with 429, Retry-After and RateLimit headers, other keys unaffected', async () => {
    const limit = keys.limited.rateLimit as number;
    const statuses: number[] = [];
    for (let i = 0; i <= limit; i++) {
      const response = await server.inject({ url: '/v1/stats', headers: { 'x-api-key': keys.limited.key } });
      statuses.push(response.statusCode);
      expect(response.headers['ratelimit-limit']).toBe(String(limit));
      if (i === limit) {
        expect(response.headers['ratelimit-remaining']).toBe('0');
        expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
        expect(response.headers['ratelimit-reset']).toBeDefined();
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });
      }
    }
    expect(statuses.slice(0, limit).every((s) => s === 503)).toBe(true);
    expect(statuses[limit]).toBe(429);
    const other = await server.inject({ url: '/v1/stats', headers: { 'x-api-key': keys.readOnly.key } });
    expect(other.statusCode).toBe(503);
    expect(Number(other.headers['ratelimit-remaining'])).toBeGreaterThan(0);
  });

  it('refuses to start with a bad key list or bad settings', async () => {
    const config = loadGatewayConfig({ API_KEYS: '[{"id":"x"}]', LOG_LEVEL: 'silent' });
    await expect(buildService({ service: 'gateway', config, app })).rejects.toThrow(/invalid API key list/);
    expect(() => loadGatewayConfig({ INGEST_UPSTREAMS: 'not-a-url' })).toThrow(/INGEST_UPSTREAMS/);
    expect(() => loadGatewayConfig({ RATE_LIMIT_MAX: '0' })).toThrow(/RATE_LIMIT_MAX/);
  });
});
