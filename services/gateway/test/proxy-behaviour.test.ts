/**
 * The gateway's proxy behaviour against small real upstream processes (test/fixtures/echo-upstream.js)
 * that echo what they received and can answer slowly: header stripping, request ids, body limits,
 * CORS, retries only where safe, 503 without upstream. Same network path as production (undici pools
 * over TCP to other processes); upstreams killed and timeouts are in proxy-failures.test.ts, the real
 * ingest and query in services.test.ts.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { waitFor } from '@splitstream/shared/testing';
import { request } from 'undici';
import {
  bearer,
  type ChildService,
  ECHO_KEYS,
  type Echo,
  freePort,
  metricValue,
  type RunningGateway,
  startEcho,
  startGateway,
} from './support';

const { keys, json } = ECHO_KEYS;

describe('gateway proxy behaviour (echo upstream processes)', () => {
  const echoes: ChildService[] = [];
  let gateway: RunningGateway;

  beforeAll(async () => {
    echoes.push(
      ...(await Promise.all(['ingest-a', 'ingest-b', 'query-a', 'query-b'].map((n) => startEcho(n)))),
    );
    const [ia, ib, qa, qb] = echoes as [ChildService, ChildService, ChildService, ChildService];
    gateway = await startGateway({
      API_KEYS: json,
      INGEST_UPSTREAMS: `${ia.url},${ib.url}`,
      QUERY_UPSTREAMS: `${qa.url},${qb.url}`,
    });
    await waitFor(async () => (await fetch(`${gateway.url}/readyz`)).ok, { what: 'gateway ready' });
  });

  afterAll(async () => {
    await gateway?.close();
    await Promise.all(echoes.map((e) => e.kill('SIGKILL')));
  });

  it('strips client-sent internal headers and forwards the signed principal, never the client key', async () => {
    const response = await request(`${gateway.url}/v1/events?x=1`, {
      headers: {
        ...bearer(keys.readOnly),
        'x-splitstream-tenant': 'globex',
        'x-splitstream-scopes': 'events:admin',
        'x-splitstream-timestamp': String(Date.now()),
        'x-splitstream-signature': 'forged',
        'X-Splitstream-Anything': 'dropped too',
        'consistency-token': 'abc',
      },
    });
    expect(response.statusCode).toBe(200);
    const echo = (await response.body.json()) as Echo;
    expect(echo.principal).toEqual({ tenant: 'acme', scopes: ['events:read'] });
    expect(echo.headers['x-splitstream-signature']).not.toBe('forged');
    expect(echo.headers['x-splitstream-anything']).toBeUndefined();
    expect(echo.headers.authorization).toBeUndefined();
    expect(echo.headers['x-api-key']).toBeUndefined();
    expect(echo.headers['consistency-token']).toBe('abc');
    expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
  });

  it('routes an event id of the maximum length, percent-encoded, to the query upstream', async () => {
    const longId = '🦊'.repeat(128); // 128 characters of 4 UTF-8 bytes: 1536 once percent-encoded
    const response = await request(`${gateway.url}/v1/events/${encodeURIComponent(longId)}`, {
      headers: bearer(keys.readOnly),
    });
    expect(response.statusCode).toBe(200);
    const echo = (await response.body.json()) as Echo & { url: string };
    expect(echo.instance).toMatch(/^query-/);
    expect(decodeURIComponent(echo.url)).toBe(`/v1/events/${longId}`);
  });

  it('propagates the client request id end to end, or generates one', async () => {
    const given = await request(`${gateway.url}/v1/stats`, {
      headers: { ...bearer(keys.readOnly), 'x-request-id': 'client-id-42' },
    });
    expect(given.headers['x-request-id']).toBe('client-id-42');
    expect(((await given.body.json()) as Echo).requestId).toBe('client-id-42');

    for (const bad of [undefined, 'has spaces and "quotes"', 'x'.repeat(200)]) {
      const response = await request(`${gateway.url}/v1/stats`, {
        headers: { ...bearer(keys.readOnly), ...(bad ? { 'x-request-id': bad } : {}) },
      });
      const id = response.headers['x-request-id'];
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(((await response.body.json()) as Echo).requestId).toBe(id);
    }
    // Errors answered by the gateway itself carry it too.
    const refused = await request(`${gateway.url}/v1/stats`, { headers: { 'x-request-id': 'no-key-7' } });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['x-request-id']).toBe('no-key-7');
    await refused.body.dump();
  });

  it('forwards bodies byte for byte (gzip included) and refuses oversized ones before proxying', async () => {
    const event = JSON.stringify({ specversion: '1.0', id: 'e1', source: '/t', type: 't' });
    const ok = await request(`${gateway.url}/v1/events`, {
      method: 'POST',
      headers: { ...bearer(keys.writeOnly), 'content-type': 'application/cloudevents+json' },
      body: event,
    });
    expect(ok.statusCode).toBe(202);
    const echo = (await ok.body.json()) as Echo;
    expect(echo.bodyBytes).toBe(Buffer.byteLength(event));
    expect(echo.headers['content-type']).toBe('application/cloudevents+json');

    const gzipped = gzipSync(`[${event}]`);
    const gz = await request(`${gateway.url}/v1/events/batch`, {
      method: 'POST',
      headers: { ...bearer(keys.writeOnly), 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipped,
    });
    expect(gz.statusCode).toBe(202);
    const gzEcho = (await gz.body.json()) as Echo;
    expect(gzEcho.bodySha256).toBe(createHash('sha256').update(gzipped).digest('hex'));
    expect(gzEcho.headers['content-encoding']).toBe('gzip');

    const before = await metricValue(gateway.url, 'gateway_upstream_requests_total', { upstream: 'ingest' });
    const big = Buffer.alloc(gateway.config.BATCH_BODY_LIMIT_BYTES + 1, 0x20);
    const tooLarge = await request(`${gateway.url}/v1/events/batch`, {
      method: 'POST',
      headers: { ...bearer(keys.writeOnly), 'content-type': 'application/json' },
      body: big,
    });
    expect(tooLarge.statusCode).toBe(413);
    expect(tooLarge.headers['content-type']).toContain('application/problem+json');
    await tooLarge.body.dump();
    // Without a Content-Length (chunked), the limit holds while reading.
    const chunked = await request(`${gateway.url}/v1/events`, {
      method: 'POST',
      headers: { ...bearer(keys.writeOnly), 'content-type': 'application/json' },
      body: Readable.from(
        (function* () {
          for (let i = 0; i < 20; i++) yield Buffer.alloc(64 * 1024, 0x20);
        })(),
      ),
    });
    expect(chunked.statusCode).toBe(413);
    await chunked.body.dump();
    expect(await metricValue(gateway.url, 'gateway_upstream_requests_total', { upstream: 'ingest' })).toBe(
      before,
    );
  });

  it('balances requests across the instances of an upstream', async () => {
    const seen: Record<string, number> = {};
    for (let i = 0; i < 20; i++) {
      const response = await request(`${gateway.url}/v1/events/${i}`, { headers: bearer(keys.readOnly) });
      const { instance } = (await response.body.json()) as Echo;
      seen[instance] = (seen[instance] ?? 0) + 1;
    }
    expect(seen).toEqual({ 'query-a': 10, 'query-b': 10 });
  });

  it('answers 503 with Retry-After when no instance is available, and is not ready', async () => {
    const dead = await freePort();
    const lonely = await startGateway({
      API_KEYS: json,
      INGEST_UPSTREAMS: `http://127.0.0.1:${dead}`,
      QUERY_UPSTREAMS: (echoes[2] as ChildService).url,
    });
    try {
      for (let i = 0; i < 2; i++) {
        // First the refused connection, then the ejected instance: both are "no upstream".
        const response = await request(`${lonely.url}/v1/events`, {
          method: 'POST',
          headers: { ...bearer(keys.readWrite), 'content-type': 'application/json' },
          body: '{}',
        });
        expect(response.statusCode).toBe(503);
        expect(response.headers['retry-after']).toBe(String(lonely.config.UNAVAILABLE_RETRY_AFTER_S));
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(((await response.body.json()) as { detail: string }).detail).toContain('no ingest instance');
      }
      // Until its first health check the query instance is "unknown": wait for the gateway's own verdict on it.
      const ready = await waitFor(
        async () => {
          const r = await fetch(`${lonely.url}/readyz`);
          if (r.status !== 503) return undefined;
          const body = (await r.json()) as { checks: Record<string, string> };
          return body.checks.query?.includes('unknown') ? undefined : body;
        },
        { what: 'gateway not ready, with the query instance checked' },
      );
      expect(ready.checks.ingest).toContain('no healthy ingest instance');
      expect(ready.checks.query).toBe('ok');
    } finally {
      await lonely.close();
    }
  });

  it('retries a refused connection on another instance, for writes too, and ejects the dead one', async () => {
    const [ia, , qa] = echoes as [ChildService, ChildService, ChildService];
    const doomed = await startEcho('doomed');
    const mixed = await startGateway({
      API_KEYS: json,
      HEALTH_CHECK_INTERVAL_MS: '60000', // after the first round, only the passive ejection is at work
      INGEST_UPSTREAMS: `${doomed.url},${ia.url}`,
      QUERY_UPSTREAMS: `${doomed.url},${qa.url}`,
    });
    try {
      // Ready needs one healthy instance of each; the doomed one must have passed its first check too,
      // or that check, failing after the kill, ejects it before a request can.
      await waitFor(
        async () =>
          (await metricValue(mixed.url, 'gateway_upstream_health_checks_total', {
            instance: doomed.url,
            outcome: 'ok',
          })) === 2,
        { what: 'the doomed instance checked healthy in both groups' },
      );
      await doomed.kill('SIGKILL');
      const statuses = [];
      for (let i = 0; i < 6; i++) {
        const post = await request(`${mixed.url}/v1/events`, {
          method: 'POST',
          headers: { ...bearer(keys.readWrite), 'content-type': 'application/json' },
          body: '{}',
        });
        const get = await request(`${mixed.url}/v1/events`, { headers: bearer(keys.readWrite) });
        statuses.push(post.statusCode, get.statusCode);
        await Promise.all([post.body.dump(), get.body.dump()]);
      }
      expect(new Set(statuses)).toEqual(new Set([200, 202]));
      const labels = { instance: doomed.url, reason: 'connection-refused' };
      expect(await metricValue(mixed.url, 'gateway_upstream_ejections_total', labels)).toBe(2);
      expect(await metricValue(mixed.url, 'gateway_upstream_retries_total', {})).toBe(2);
    } finally {
      await mixed.close();
    }
  });

  it('does not answer CORS preflights unless configured, and allows configured origins', async () => {
    const preflight = (url: string, origin: string) =>
      request(`${url}/v1/events`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const none = await preflight(gateway.url, 'https://app.example');
    expect(none.headers['access-control-allow-origin']).toBeUndefined();
    await none.body.dump();

    const withCors = await startGateway({
      API_KEYS: json,
      CORS_ORIGINS: 'https://app.example',
      INGEST_UPSTREAMS: (echoes[0] as ChildService).url,
      QUERY_UPSTREAMS: (echoes[2] as ChildService).url,
    });
    try {
      const allowed = await preflight(withCors.url, 'https://app.example');
      expect(allowed.statusCode).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(String(allowed.headers['access-control-allow-headers']).toLowerCase()).toContain(
        'authorization',
      );
      await allowed.body.dump();
      const other = await preflight(withCors.url, 'https://evil.example');
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      await other.body.dump();
      const actual = await request(`${withCors.url}/v1/events`, {
        headers: { ...bearer(keys.readOnly), origin: 'https://app.example' },
      });
      expect(actual.headers['access-control-allow-origin']).toBe('https://app.example');
      expect(String(actual.headers['access-control-expose-headers'])).toContain('X-Request-Id');
      await actual.body.dump();
    } finally {
      await withCors.close();
    }
  });
});
