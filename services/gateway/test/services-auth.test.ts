/**
 * The gateway in front of real service processes (as in services.test.ts: two ingest, two query and
 * a writer on this suite's own topic): the auth and scope matrix, rate limits, header stripping,
 * direct access without proof refused and the merged OpenAPI document.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { openApiPath, PUBLIC_ROUTES, signPrincipal } from '@splitstream/shared';
import { uniqueName } from '@splitstream/shared/testing';
import { request } from 'undici';
import { type Accepted, bearer, gatewayEvent, SECRET, type TestKey, useRealServices } from './support';

describe('gateway in front of real ingest, query and writer processes', () => {
  const suite = useRealServices();
  const { keys, tenant, otherTenant, byName, post, get } = suite;

  it('enforces the auth and scope matrix on every public route', async () => {
    const THROUGH = 0; // reaches the service: whatever it answers, it is not an auth refusal
    const seen: { route: string; key: string; status: number }[] = [];
    // A key passes exactly when it holds the route's scope (no scope implies another).
    const bodyOf = (path: string) =>
      path.endsWith('batch') ? [gatewayEvent()] : path.endsWith('replay') ? { dryRun: true } : gatewayEvent();
    for (const route of PUBLIC_ROUTES) {
      const path = route.url.replace(':id', 'some-id');
      const write = route.method === 'POST';
      const cases: [string, TestKey | undefined, number][] = [
        ['none', undefined, 401],
        ...(
          [
            ['read-only', keys.readOnly],
            ['write-only', keys.writeOnly],
            ['read-write', keys.readWrite],
            ['admin', keys.admin],
          ] as const
        ).map(([name, key]): [string, TestKey, number] => [
          name,
          key,
          key.scopes.includes(route.scope) ? THROUGH : 403,
        ]),
      ];
      for (const [name, key, expected] of cases) {
        const response = await request(`${suite.gateway.url}${path}`, {
          method: route.method,
          headers: { ...(key ? bearer(key) : {}), 'content-type': 'application/json' },
          ...(write ? { body: JSON.stringify(bodyOf(path)) } : {}),
        });
        const body = await response.body.text();
        seen.push({ route: `${route.method} ${path}`, key: name, status: response.statusCode });
        if (expected === THROUGH) {
          expect([401, 403]).not.toContain(response.statusCode);
          expect(response.statusCode).toBeLessThan(500);
        } else {
          expect(response.statusCode).toBe(expected);
          expect(response.headers['content-type']).toContain('application/problem+json');
          expect(JSON.parse(body).status).toBe(expected);
        }
      }
    }
    expect(seen).toHaveLength(PUBLIC_ROUTES.length * 5);
    // The admin route is reached with the admin key: ingest answered the dry run itself.
    expect(seen).toContainEqual({ route: 'POST /v1/deadletters/replay', key: 'admin', status: 200 });
  });

  it('rate-limits per API key: 429 with Retry-After and RateLimit headers', async () => {
    const limit = keys.limited.rateLimit as number;
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i <= limit; i++) {
      last = await get(keys.limited, '/v1/events?limit=1');
      statuses.push(last.statusCode);
      if (i < limit) await last.body.dump();
    }
    expect(statuses).toEqual([...Array(limit).fill(200), 429]);
    expect(Number(last?.headers['retry-after'])).toBeGreaterThan(0);
    expect(last?.headers['ratelimit-limit']).toBe(String(limit));
    expect(last?.headers['ratelimit-remaining']).toBe('0');
    expect(await last?.body.json()).toMatchObject({ status: 429 });
    const unaffected = await get(keys.readOnly, '/v1/events?limit=1');
    expect(unaffected.statusCode).toBe(200);
    await unaffected.body.dump();
  });

  it('ignores client-sent internal headers: a forged tenant does not move the write', async () => {
    const forged = signPrincipal('not-the-secret-but-long-enough', {
      tenant: otherTenant,
      scopes: ['events:admin'],
    });
    const id = uniqueName('forged');
    const response = await post(keys.readWrite, gatewayEvent(id), '/v1/events', forged);
    expect(response.statusCode).toBe(202);
    const { token } = (await response.body.json()) as Accepted;
    const own = await get(keys.readOnly, `/v1/events/${id}?after=${token}&maxWaitMs=10000`);
    expect(own.statusCode).toBe(200);
    expect(await own.body.json()).toMatchObject({ id, source: '/gateway/test' });
    const other = await get(keys.other, `/v1/events/${id}?after=${token}&maxWaitMs=10000`);
    expect(other.statusCode).toBe(404);
    await other.body.dump();
  });

  it('a service reached directly without valid proof refuses', async () => {
    const ingest = byName('ingest-1');
    const query = byName('query-1');
    const attempts = [
      { name: 'no proof', headers: {} },
      { name: 'a client key', headers: bearer(keys.readWrite) },
      {
        name: 'a bare tenant header',
        headers: { 'x-splitstream-tenant': tenant, 'x-splitstream-scopes': 'events:write' },
      },
      {
        name: 'a wrong secret',
        headers: signPrincipal('some-other-secret-value', { tenant, scopes: ['events:write'] }),
      },
      {
        name: 'an expired proof',
        headers: signPrincipal(
          SECRET,
          { tenant, scopes: ['events:write', 'events:read'] },
          Date.now() - 10 * 60_000,
        ),
      },
    ];
    for (const attempt of attempts) {
      const write = await request(`${ingest.url}/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...attempt.headers },
        body: JSON.stringify(gatewayEvent()),
      });
      const read = await request(`${query.url}/v1/events`, { headers: attempt.headers });
      expect({ attempt: attempt.name, write: write.statusCode, read: read.statusCode }).toEqual({
        attempt: attempt.name,
        write: 401,
        read: 401,
      });
      await Promise.all([write.body.dump(), read.body.dump()]);
    }
    // The same request with the gateway's proof goes through.
    const proof = signPrincipal(SECRET, { tenant, scopes: ['events:write', 'events:read'] });
    const direct = await request(`${ingest.url}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...proof },
      body: JSON.stringify(gatewayEvent()),
    });
    expect(direct.statusCode).toBe(202);
    await direct.body.dump();
  });

  it('serves one valid OpenAPI document merged from the services, with every public operation', async () => {
    const response = await fetch(`${suite.gateway.url}/openapi.json`);
    expect(response.status).toBe(200);
    const document = (await response.json()) as {
      paths: Record<string, Record<string, { responses: Record<string, unknown>; security: unknown }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
    expect(Object.keys(document.components.securitySchemes)).toEqual(['bearerAuth', 'apiKeyAuth']);
    for (const route of PUBLIC_ROUTES) {
      const operation = document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      expect({ route: route.url, method: route.method, found: Boolean(operation) }).toMatchObject({
        found: true,
      });
      for (const status of ['401', '403', '429', '503']) expect(operation?.responses[status]).toBeDefined();
      expect(operation?.security).toEqual([{ bearerAuth: [] }, { apiKeyAuth: [] }]);
    }
    // Nothing the suite.services serve outside the public API leaks into it.
    expect(Object.keys(document.paths).every((p) => p.startsWith('/v1/'))).toBe(true);
    const docs = await fetch(`${suite.gateway.url}/docs`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toContain('swagger');
  });
});
