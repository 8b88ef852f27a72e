/**
 * The gateway when its upstream processes (test/fixtures/echo-upstream.js) go away or stall: the
 * merged OpenAPI document kept, writes that may have arrived never replayed, reads replayed,
 * timeouts, ejection and readmission.
 */
import { waitFor } from '@splitstream/shared/testing';
import { request } from 'undici';
import {
  bearer,
  busyInstance,
  type ChildService,
  ECHO_KEYS,
  type Echo,
  freePort,
  metricValue,
  startEcho,
  startGateway,
} from './support';

const { keys, json } = ECHO_KEYS;

describe('gateway proxy behaviour (echo upstream processes)', () => {
  it('keeps serving the merged OpenAPI document when the services go away, 503 before any was fetched', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const blind = await startGateway({ API_KEYS: json, INGEST_UPSTREAMS: dead, QUERY_UPSTREAMS: dead });
    try {
      for (const path of ['/openapi.json', '/docs/json']) {
        const response = await request(`${blind.url}${path}`);
        expect(response.statusCode).toBe(503);
        expect(response.headers['retry-after']).toBeDefined();
        expect(response.headers['content-type']).toContain('application/problem+json');
        await response.body.dump();
      }
    } finally {
      await blind.close();
    }

    const [ingest, query] = await Promise.all([startEcho('doc-ingest'), startEcho('doc-query')]);
    const docs = await startGateway({
      API_KEYS: json,
      OPENAPI_REFRESH_MS: '1', // every request refreshes in the background
      INGEST_UPSTREAMS: ingest.url,
      QUERY_UPSTREAMS: query.url,
    });
    try {
      const first = (await (await fetch(`${docs.url}/openapi.json`)).json()) as {
        paths: Record<string, unknown>;
      };
      expect(Object.keys(first.paths)).toContain('/v1/events/{id}/status');
      await Promise.all([ingest.kill('SIGKILL'), query.kill('SIGKILL')]);
      for (let i = 0; i < 3; i++) {
        const again = await fetch(`${docs.url}/openapi.json`);
        expect(again.status).toBe(200);
        expect(await again.json()).toEqual(first);
      }
    } finally {
      await docs.close();
    }
  });
});

describe('gateway failure handling (upstream processes killed)', () => {
  const echoes: ChildService[] = [];
  afterAll(async () => {
    await Promise.all(echoes.map((e) => e.kill('SIGKILL')));
  });

  it('never replays a write that may have reached the instance, but replays a read', async () => {
    const started = await Promise.all(['w-a', 'w-b', 'r-a', 'r-b'].map((n) => startEcho(n)));
    echoes.push(...started);
    const [wa, wb, ra, rb] = started as [ChildService, ChildService, ChildService, ChildService];
    const gateway = await startGateway({
      API_KEYS: json,
      INGEST_UPSTREAMS: `${wa.url},${wb.url}`,
      QUERY_UPSTREAMS: `${ra.url},${rb.url}`,
    });
    try {
      const post = request(`${gateway.url}/v1/events?delayMs=3000`, {
        method: 'POST',
        headers: { ...bearer(keys.readWrite), 'content-type': 'application/json' },
        body: '{"n":1}',
      });
      const victim = await busyInstance(gateway, 'ingest', [wa, wb]);
      const survivor = victim === wa ? wb : wa;
      await victim.kill('SIGKILL');
      const postResponse = await post;
      expect(postResponse.statusCode).toBe(502);
      expect(postResponse.headers['content-type']).toContain('application/problem+json');
      await postResponse.body.dump();
      // The surviving instance never saw the write.
      const survivorMetrics = await (await fetch(`${survivor.url}/metrics`)).text();
      expect(survivorMetrics).not.toContain('method="POST"');

      const get = request(`${gateway.url}/v1/events?delayMs=1000`, { headers: bearer(keys.readWrite) });
      const reader = await busyInstance(gateway, 'query', [ra, rb]);
      await reader.kill('SIGKILL');
      const getResponse = await get;
      expect(getResponse.statusCode).toBe(200);
      expect(((await getResponse.body.json()) as Echo).instance).toBe(reader === ra ? 'r-b' : 'r-a');
    } finally {
      await gateway.close();
    }
  });

  it('reads a small answer whole: one cut midway is a 502 for a write, replayed elsewhere for a read', async () => {
    const [wa, ra, rb] = (await Promise.all(['cut-w', 'cut-ra', 'cut-rb'].map((n) => startEcho(n)))) as [
      ChildService,
      ChildService,
      ChildService,
    ];
    echoes.push(wa, ra, rb);
    const gateway = await startGateway({
      API_KEYS: json,
      INGEST_UPSTREAMS: wa.url,
      QUERY_UPSTREAMS: `${ra.url},${rb.url}`,
    });
    try {
      // Nothing of the broken answer reaches the client: it gets a whole problem instead.
      const post = await request(`${gateway.url}/v1/events?partialBody=cut`, {
        method: 'POST',
        headers: { ...bearer(keys.readWrite), 'content-type': 'application/json' },
        body: '{"n":1}',
      });
      expect(post.statusCode).toBe(502);
      expect(post.headers['content-type']).toContain('application/problem+json');
      expect(await post.body.json()).toMatchObject({ status: 502, title: 'Bad Gateway' });
      expect(await metricValue(gateway.url, 'gateway_upstream_retries_total', {})).toBe(0);

      // The read is cut on cut-ra only: whichever instance it reaches first, cut-rb answers it whole.
      for (let i = 0; i < 2; i++) {
        const get = await request(`${gateway.url}/v1/events?partialBody=cut&on=cut-ra`, {
          headers: bearer(keys.readWrite),
        });
        expect(get.statusCode).toBe(200);
        expect(((await get.body.json()) as Echo).instance).toBe('cut-rb');
      }
      expect(await metricValue(gateway.url, 'gateway_upstream_retries_total', {})).toBeGreaterThanOrEqual(1);
    } finally {
      await gateway.close();
    }
  });

  it('answers 504 when a small answer stalls midway past the body timeout', async () => {
    const echo = await startEcho('stall');
    echoes.push(echo);
    const gateway = await startGateway({
      API_KEYS: json,
      UPSTREAM_BODY_TIMEOUT_MS: '300',
      INGEST_UPSTREAMS: echo.url,
      QUERY_UPSTREAMS: echo.url,
    });
    try {
      const started = Date.now();
      const response = await request(`${gateway.url}/v1/events?partialBody=stall`, {
        headers: bearer(keys.readOnly),
      });
      expect(response.statusCode).toBe(504);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(await response.body.json()).toMatchObject({ status: 504, title: 'Gateway Timeout' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await gateway.close();
    }
  });

  it('answers 504 when the instance does not answer in time, without trying another', async () => {
    const [a, b] = await Promise.all(['t-a', 't-b'].map((n) => startEcho(n)));
    echoes.push(a as ChildService, b as ChildService);
    const gateway = await startGateway({
      API_KEYS: json,
      UPSTREAM_HEADERS_TIMEOUT_MS: '300',
      INGEST_UPSTREAMS: (a as ChildService).url,
      QUERY_UPSTREAMS: `${(a as ChildService).url},${(b as ChildService).url}`,
    });
    try {
      const response = await request(`${gateway.url}/v1/events?delayMs=2000`, {
        headers: bearer(keys.readOnly),
      });
      expect(response.statusCode).toBe(504);
      await response.body.dump();
      expect(await metricValue(gateway.url, 'gateway_upstream_requests_total', { outcome: 'error' })).toBe(1);
      expect(await metricValue(gateway.url, 'gateway_upstream_retries_total', {})).toBe(0);
    } finally {
      await gateway.close();
    }
  });

  it('ejects an instance that stops, and readmits it when it passes its health check again', async () => {
    const [a, b] = (await Promise.all(['e-a', 'e-b'].map((n) => startEcho(n)))) as [
      ChildService,
      ChildService,
    ];
    echoes.push(a, b);
    const gateway = await startGateway({
      API_KEYS: json,
      INGEST_UPSTREAMS: a.url,
      QUERY_UPSTREAMS: `${a.url},${b.url}`,
    });
    const available = (url: string) =>
      metricValue(gateway.url, 'gateway_upstream_available', { upstream: 'query', instance: url });
    try {
      await b.kill('SIGKILL');
      await waitFor(async () => (await available(b.url)) === 0, { what: 'ejection' });
      for (let i = 0; i < 10; i++) {
        const response = await request(`${gateway.url}/v1/events`, { headers: bearer(keys.readOnly) });
        expect(response.statusCode).toBe(200);
        expect(((await response.body.json()) as Echo).instance).toBe('e-a');
      }
      const restarted = await startEcho('e-b2', b.port);
      echoes.push(restarted);
      await waitFor(async () => (await available(b.url)) === 1, { what: 'readmission' });
      expect(
        await metricValue(gateway.url, 'gateway_upstream_readmissions_total', { instance: b.url }),
      ).toBeGreaterThanOrEqual(1);
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const response = await request(`${gateway.url}/v1/events`, { headers: bearer(keys.readOnly) });
        seen.add(((await response.body.json()) as Echo).instance);
      }
      expect(seen).toEqual(new Set(['e-a', 'e-b2']));
    } finally {
      await gateway.close();
    }
  });
});
