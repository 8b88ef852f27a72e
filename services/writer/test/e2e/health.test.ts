import Fastify from 'fastify';
import { app } from '../src/app';
import { loadWriterConfig } from '../src/config';

describe('writer health', () => {
  it('answers /healthz and exposes /metrics', async () => {
    const server = Fastify();
    await server.register(app, { config: loadWriterConfig({}) });
    const health = await server.inject('/healthz');
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ status: 'ok' });
    const metrics = await server.inject('/metrics');
    expect(metrics.body).toContain('http_request_duration_seconds');
    await server.close();
  });
});
