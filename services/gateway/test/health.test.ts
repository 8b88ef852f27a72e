import { buildService } from '@splitstream/shared';
import { app } from '../src/app';
import { loadGatewayConfig } from '../src/config';

describe('gateway health', () => {
  it('answers /healthz and exposes /metrics', async () => {
    const server = await buildService({
      service: 'gateway',
      config: loadGatewayConfig({ LOG_LEVEL: 'silent' }),
      app,
    });
    const health = await server.inject('/healthz');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const metrics = await server.inject('/metrics');
    expect(metrics.body).toContain('http_request_duration_seconds');
    await server.close();
  });
});
