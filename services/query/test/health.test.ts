import { missingMetrics } from '@splitstream/shared/testing';
import { buildApp } from './helpers';

describe('query health', () => {
  it('answers /healthz, /readyz (the store answers) and exposes its metrics', async () => {
    const { server } = await buildApp();
    try {
      const health = await server.inject('/healthz');
      expect(health.statusCode).toBe(200);
      expect(health.json()).toEqual({ status: 'ok' });
      const ready = await server.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'ready', checks: { store: 'ok' } });
      const missing = await missingMetrics(server, [
        'http_request_duration_seconds',
        'query_read_duration_seconds',
        'query_consistency_waits_total',
        'query_store_fallbacks_total',
        'query_store_endpoint_up{endpoint="replica",service="query"} 1',
      ]);
      expect(missing).toEqual([]);
    } finally {
      await server.close();
    }
  });
});
