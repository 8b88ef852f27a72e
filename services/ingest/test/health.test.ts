import { testInfra, waitFor } from '@splitstream/shared/testing';
import { loadIngestConfig } from '../src/config';
import { ingestInstance, sampleEvent, writeHeaders } from './helpers';

describe('ingest health', () => {
  it('answers /healthz, /readyz (broker reachable) and exposes /metrics', async () => {
    // The test infrastructure's endpoints (a clean run gives it ports of its own), not the defaults.
    const { brokers, writeUri } = testInfra();
    const server = await ingestInstance(
      loadIngestConfig({ KAFKA_BROKERS: brokers.join(','), MONGO_WRITE_URI: writeUri }),
    );
    const health = await server.inject('/healthz');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    // The producer connects in the background once the app is ready: wait for the verdict, then read it.
    const ready = await waitFor(
      async () => {
        const response = await server.inject('/readyz');
        return response.statusCode === 200 ? response.json() : undefined;
      },
      { what: 'ingest ready' },
    );
    expect(ready).toEqual({ status: 'ready', checks: { kafka: 'ok', store: 'ok' } });
    const metrics = await server.inject('/metrics');
    expect(metrics.body).toContain('http_request_duration_seconds');
    expect(metrics.body).toMatch(/ingest_producer_ready\{[^}]*\} 1/);
    await server.close();
  });

  it('starts without a broker: not ready, 503 + Retry-After at once, and still alive', async () => {
    // Nothing listens on port 1: every connection is refused.
    const config = loadIngestConfig({
      KAFKA_BROKERS: '127.0.0.1:1',
      INTERNAL_AUTH_SECRET: 'ingest-test-secret-0123456789',
    });
    const server = await ingestInstance(config);
    expect((await server.inject('/healthz')).statusCode).toBe(200);
    const ready = await server.inject('/readyz');
    expect(ready.statusCode).toBe(503);
    expect(ready.json().checks.kafka).toMatch(/producer unavailable/);
    const started = Date.now();
    const response = await server.inject({
      method: 'POST',
      url: '/v1/events',
      headers: writeHeaders('tenant-a'),
      payload: sampleEvent(),
    });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('1');
    expect(response.json().detail).toMatch(/broker is unreachable/);
    await server.close();
  });

  it('refuses a bad configuration with a message naming the variable', () => {
    expect(() => loadIngestConfig({ INGEST_INFLIGHT_MAX_MESSAGES: '10' })).toThrow(
      /INGEST_INFLIGHT_MAX_MESSAGES/,
    );
    expect(() => loadIngestConfig({ KAFKA_COMPRESSION: 'brotli' })).toThrow(/KAFKA_COMPRESSION/);
    expect(loadIngestConfig({ INGEST_MICROBATCH: 'false' }).INGEST_MICROBATCH).toBe(false);
  });
});
