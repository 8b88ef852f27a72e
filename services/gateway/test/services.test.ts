/**
 * The gateway in front of real service processes (services/<svc>/dist/server.js on free ports):
 * two ingest, two query and a writer, on this suite's own Kafka topic, real Kafka and store.
 * Routing, balancing, an instance killed under load (ejected, then readmitted) and request ids end
 * to end; the auth and scope matrix, rate limits, header stripping, direct access without proof and
 * the merged OpenAPI document are in services-auth.test.ts.
 */
import { SERVICE_SCRIPT, uniqueName, waitFor } from '@splitstream/shared/testing';
import { type Accepted, gatewayEvent, metricValue, spawnService, useRealServices } from './support';

const WRITES_SETTLE_WITHIN_MS = 30_000;

describe('gateway in front of real ingest, query and writer processes', () => {
  const suite = useRealServices();
  const { keys, byName, post, get } = suite;

  it('routes writes to ingest and reads to query, read-your-writes included', async () => {
    const one = await post(keys.readWrite, gatewayEvent());
    expect(one.statusCode).toBe(202);
    const accepted = (await one.body.json()) as Accepted;
    const batchIds = [uniqueName('b'), uniqueName('b')];
    const batch = await post(
      keys.readWrite,
      batchIds.map((id) => gatewayEvent(id)),
      '/v1/events/batch',
    );
    expect(batch.statusCode).toBe(202);
    const batchAccepted = (await batch.body.json()) as { accepted: number; ids: string[]; token: string };
    expect(batchAccepted.accepted).toBe(2);

    const read = await get(
      keys.readOnly,
      `/v1/events/${encodeURIComponent(accepted.id)}?after=${accepted.token}&maxWaitMs=10000`,
    );
    expect(read.statusCode).toBe(200);
    expect(await read.body.json()).toMatchObject({ id: accepted.id, source: '/gateway/test' });

    const list = await get(keys.readOnly, `/v1/events?limit=10&after=${batchAccepted.token}&maxWaitMs=10000`);
    expect(list.statusCode).toBe(200);
    const ids = ((await list.body.json()) as { items: { id: string }[] }).items.map((i) => i.id);
    expect(ids).toEqual(expect.arrayContaining([accepted.id, ...batchIds]));

    const status = await get(keys.readOnly, `/v1/events/${encodeURIComponent(accepted.id)}/status`);
    expect(status.statusCode).toBe(200);
    expect(await status.body.json()).toMatchObject({ status: 'stored' });

    const since = new Date(Date.now() - 3_600_000).toISOString();
    const until = new Date(Date.now() + 3_600_000).toISOString();
    const stats = await get(keys.readOnly, `/v1/stats?by=type&interval=hour&since=${since}&until=${until}`);
    expect(stats.statusCode).toBe(200);
    await stats.body.dump();
    const deadletters = await get(keys.readOnly, '/v1/deadletters');
    expect(deadletters.statusCode).toBe(200);
    await deadletters.body.dump();

    // Another tenant never sees it.
    const foreign = await get(keys.other, `/v1/events/${encodeURIComponent(accepted.id)}`);
    expect(foreign.statusCode).toBe(404);
    await foreign.body.dump();
  });

  it('propagates the request id to the service that handled the request', async () => {
    const requestId = uniqueName('rid');
    const response = await post(keys.readWrite, gatewayEvent(), '/v1/events', { 'x-request-id': requestId });
    expect(response.statusCode).toBe(202);
    expect(response.headers['x-request-id']).toBe(requestId);
    await response.body.dump();
    await waitFor(
      () =>
        suite.services.some(
          (s) => s.name.startsWith('ingest') && s.output().includes(`"requestId":"${requestId}"`),
        ),
      { what: 'the request id in an ingest log line' },
    );
  });

  it('balances across the two instances of each service', async () => {
    const count = (instance: string) =>
      metricValue(suite.gateway.url, 'gateway_upstream_requests_total', { instance, outcome: '2xx' });
    const before = await Promise.all(suite.services.map((s) => count(s.url)));
    for (let i = 0; i < 20; i++) {
      const write = await post(keys.readWrite, gatewayEvent());
      const read = await get(keys.readOnly, '/v1/events?limit=1');
      expect([write.statusCode, read.statusCode]).toEqual([202, 200]);
      await Promise.all([write.body.dump(), read.body.dump()]);
    }
    const after = await Promise.all(suite.services.map((s) => count(s.url)));
    const served = Object.fromEntries(
      suite.services.map((s, i) => [s.name, (after[i] ?? 0) - (before[i] ?? 0)]),
    );
    // Sequential requests: least-pending ties go round robin, so the split is even.
    expect(served).toEqual({ 'ingest-1': 10, 'ingest-2': 10, 'query-1': 10, 'query-2': 10 });
  });

  it('survives an instance of each service killed under load: only requests in flight on it fail', async () => {
    const [victimWrite, victimRead] = [byName('ingest-2'), byName('query-2')];
    const results: { kind: 'write' | 'read'; startedAt: number; status: number }[] = [];
    let stop = false;
    const loop = async (kind: 'write' | 'read') => {
      while (!stop) {
        const startedAt = Date.now();
        let status: number;
        try {
          const response =
            kind === 'write'
              ? await post(keys.readWrite, gatewayEvent())
              : await get(keys.readOnly, '/v1/events?limit=5');
          status = response.statusCode;
          await response.body.dump();
        } catch {
          status = 0;
        }
        results.push({ kind, startedAt, status });
      }
    };
    const CONCURRENCY = 4;
    const load = Promise.all([
      ...Array.from({ length: CONCURRENCY }, () => loop('write')),
      ...Array.from({ length: CONCURRENCY }, () => loop('read')),
    ]);
    await waitFor(() => results.length > 50, { what: 'load running' });
    await Promise.all([victimWrite.kill('SIGKILL'), victimRead.kill('SIGKILL')]);
    const goneAt = Date.now();
    const available = (url: string) =>
      metricValue(suite.gateway.url, 'gateway_upstream_available', { instance: url });
    await waitFor(
      async () => (await available(victimWrite.url)) === 0 && (await available(victimRead.url)) === 0,
      {
        what: 'both victims ejected',
      },
    );
    await waitFor(() => results.filter((r) => r.startedAt > goneAt).length > 100, {
      what: 'load after the kill',
    });
    stop = true;
    await load;

    const failures = results.filter((r) => r.status !== (r.kind === 'write' ? 202 : 200));
    // A write in flight on the killed ingest may fail (502: never replayed, it may have been
    // accepted); reads are replayed on the other instance, so none fails. Nothing sent after fails.
    expect(failures.every((f) => f.kind === 'write' && f.status === 502 && f.startedAt <= goneAt)).toBe(true);
    expect(failures.length).toBeLessThanOrEqual(CONCURRENCY);
    expect(results.filter((r) => r.startedAt > goneAt).length).toBeGreaterThan(100);

    // Readmitted once it answers its health check again (same port).
    const restarted = await Promise.all([
      spawnService(
        'ingest-2',
        SERVICE_SCRIPT('ingest'),
        { KAFKA_TOPIC: suite.topic },
        { port: victimWrite.port },
      ),
      spawnService(
        'query-2',
        SERVICE_SCRIPT('query'),
        { KAFKA_TOPIC: suite.topic },
        { port: victimRead.port },
      ),
    ]);
    suite.services = [...suite.services.filter((s) => s !== victimWrite && s !== victimRead), ...restarted];
    await waitFor(
      async () => (await available(victimWrite.url)) === 1 && (await available(victimRead.url)) === 1,
      {
        what: 'both readmitted',
      },
    );
    const readmissions = await metricValue(suite.gateway.url, 'gateway_upstream_readmissions_total', {});
    expect(readmissions).toBeGreaterThanOrEqual(2);
    const refusals: string[] = [];
    const servedBefore = await metricValue(suite.gateway.url, 'gateway_upstream_requests_total', {
      instance: victimWrite.url,
      outcome: '2xx',
    });
    // A process just started on cores the parallel suites load may answer 503 ("not now", with
    // Retry-After: its event-loop bound or a first send that stalled): a client asks again.
    for (let i = 0; i < 4; i++) {
      const deadline = Date.now() + WRITES_SETTLE_WITHIN_MS;
      let response = await post(keys.readWrite, gatewayEvent());
      while (response.statusCode === 503 && Date.now() < deadline) {
        const refusal = await response.body.text();
        if (!refusals.includes(refusal)) refusals.push(refusal);
        await new Promise((resolve) => setTimeout(resolve, 200));
        response = await post(keys.readWrite, gatewayEvent());
      }
      expect({ status: response.statusCode, refusals }).toMatchObject({ status: 202 });
      await response.body.dump();
    }
    expect(
      await metricValue(suite.gateway.url, 'gateway_upstream_requests_total', {
        instance: victimWrite.url,
        outcome: '2xx',
      }),
    ).toBeGreaterThan(servedBefore);
  }, 180_000);
});
