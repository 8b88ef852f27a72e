import { encodeCursor, encodeToken } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import type { QueryConfig } from '../src/config';
import { buildApp, newTenant, principal } from './helpers';

/**
 * Every bad parameter is a 400 problem+json whose `errors` name it. Validation happens before any
 * store access, so these run against the app without fixtures.
 */
describe('parameter validation', () => {
  let server: FastifyInstance;
  let config: QueryConfig;
  const tenant = newTenant();

  beforeAll(async () => {
    ({ server, config } = await buildApp({ READ_MAX_WAIT_CAP_MS: '5000' }));
  });
  afterAll(async () => {
    await server?.close();
  });

  const foreignToken = encodeToken({ topic: 'not-events', offsets: { '0': '1' } });

  const cases: [url: string, field: string, headers?: Record<string, string>][] = [
    ['/v1/events?type[$ne]=x', 'querystring.type[$ne]'],
    ['/v1/events?source[$gt]=', 'querystring.source[$gt]'],
    ['/v1/events?foo=1', 'querystring.foo'],
    ['/v1/events?type=', 'querystring.type'],
    ['/v1/events?type=a&type=b', 'querystring.type'],
    ['/v1/events?subject=', 'querystring.subject'],
    ['/v1/events?source=', 'querystring.source'],
    // Values no event can hold (CloudEvents String): a 400, not the store's error (U+0000 was a 500).
    ['/v1/events?type=a%00b', 'querystring.type'],
    ['/v1/events?subject=%01', 'querystring.subject'],
    ['/v1/events?source=%2Fa%20b', 'querystring.source'],
    ['/v1/events/a%00b', 'params.id'],
    ['/v1/events/a%00b/status', 'params.id'],
    ['/v1/events/a?source=%00', 'querystring.source'],
    ['/v1/events?limit=0', 'querystring.limit'],
    ['/v1/events?limit=1001', 'querystring.limit'],
    ['/v1/events?limit=ten', 'querystring.limit'],
    ['/v1/events?limit=2.5', 'querystring.limit'],
    ['/v1/events?order=up', 'querystring.order'],
    ['/v1/events?since=yesterday', 'querystring.since'],
    ['/v1/events?since=2026-11-26', 'querystring.since'],
    ['/v1/events?until=2026-13-45T00:00:00Z', 'querystring.until'],
    ['/v1/events?since=2026-02-30T00:00:00Z', 'querystring.since'],
    ['/v1/events?since=2025-02-29T00:00:00Z', 'querystring.since'],
    ['/v1/events?since=0000-01-01T00:00:00Z', 'querystring.since'],
    ['/v1/events?until=2026-01-01T00:00:60Z', 'querystring.until'],
    ['/v1/events?cursor=not-a-cursor', 'querystring.cursor'],
    ['/v1/events?cursor=1764151200000', 'querystring.cursor'],
    ['/v1/events?cursor=01.eA', 'querystring.cursor'],
    ['/v1/events?after=garbage', 'querystring.after'],
    [`/v1/events?after=${foreignToken}`, 'querystring.after'],
    ['/v1/events?maxWaitMs=5001', 'querystring.maxWaitMs'],
    ['/v1/events?maxWaitMs=-1', 'querystring.maxWaitMs'],
    ['/v1/events', 'headers.consistency-token', { 'consistency-token': 'garbage' }],
    [`/v1/events/${'x'.repeat(129)}`, 'params.id'],
    ['/v1/events/a?foo=1', 'querystring.foo'],
    ['/v1/events/a?source=', 'querystring.source'],
    ['/v1/events/a/status?limit=1', 'querystring.limit'],
    ['/v1/stats?until=2026-11-27T00:00:00Z', 'querystring.since'],
    ['/v1/stats?since=2026-11-26T00:00:00Z', 'querystring.until'],
    ['/v1/stats?since=2026-11-26T00:00:00Z&until=2026-11-27T00:00:00Z&by=tenant', 'querystring.by'],
    ['/v1/stats?since=2026-11-26T00:00:00Z&until=2026-11-27T00:00:00Z&interval=week', 'querystring.interval'],
    ['/v1/stats?since=2026-11-26T00:00:00Z&until=2026-11-27T00:00:00Z&type=x', 'querystring.type'],
    ['/v1/deadletters?limit=0', 'querystring.limit'],
    ['/v1/deadletters?type=x', 'querystring.type'],
    ['/v1/deadletters?cursor=%24ne', 'querystring.cursor'],
  ];

  it.each(cases)('%s → 400 naming %s', async (url, field, headers = {}) => {
    const res = await server.inject({ url, headers: { ...principal(tenant, config), ...headers } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    const body = res.json();
    expect(body).toMatchObject({ status: 400, title: 'Bad Request' });
    expect(body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(body.detail).toContain(field.split('.').at(-1));
  });

  // Only the parameters themselves are validated: how they relate is never a 400 (no schema can say it).
  it.each([
    '/v1/stats?since=2026-11-26T00:00:00Z&until=2026-11-27T00:00:00Z&interval=minute',
    '/v1/stats?since=0001-01-01T00:00:00Z&until=9998-12-31T23:59:59-23:59&interval=minute',
    '/v1/stats?since=2026-11-26T00:00:00Z&until=2026-11-26T00:00:00Z',
    '/v1/events?since=2026-11-26T10:00:00Z&until=2026-11-26T10:00:00Z',
    '/v1/events?since=2026-11-26T10:00:00Z&until=2026-11-25T10:00:00Z',
    '/v1/deadletters?since=2026-11-26T10:00:00Z&until=2026-11-26T10:00:00Z',
    `/v1/events?cursor=${encodeCursor({ time: new Date(), id: 'not an id of this query' })}&order=desc`,
    '/v1/events?cursor=c1.-62135596800000.',
  ])('accepts %s', async (url) => {
    const res = await server.inject({ url, headers: principal(tenant, config) });
    expect(res.statusCode).toBe(200);
  });
});
