import { Writable } from 'node:stream';
import { buildService, loggerOptions } from '../src';

/** Every request is one log line when it is answered (Fastify's default is two), secrets redacted. */
describe('request log', () => {
  it('writes one line per answered request, none for a route logged at warn, and never the key', async () => {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const server = await buildService({
      service: 'log-test',
      config: { LOG_LEVEL: 'info' },
      serverOptions: { logger: { ...loggerOptions('log-test', 'info'), stream } },
      app: async (app) => {
        app.get('/answer', async () => ({ ok: true }));
        app.get('/quiet', { logLevel: 'warn' }, async () => ({ ok: true }));
      },
    });
    try {
      await server.inject({ url: '/answer', headers: { authorization: 'Bearer secret-key' } });
      await server.inject('/quiet');
      await server.inject('/missing');
    } finally {
      await server.close();
    }
    const requests = lines.filter((line) => line.requestId !== undefined);
    expect(requests.map((line) => [line.msg, (line.req as { url: string }).url, line.res])).toEqual([
      ['request completed', '/answer', { statusCode: 200 }],
      ['request completed', '/missing', { statusCode: 404 }],
    ]);
    expect(typeof requests[0]?.responseTime).toBe('number');
    expect(JSON.stringify(lines)).not.toContain('secret-key');
  });
});
