import { TcpProxy, testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import type { FastifyInstance } from 'fastify';
import { buildIngest, sampleEvent, writeHeaders } from './helpers';
import { adminHeaders, deadLetter, deadLetterSuite, postReplay } from './replay-fixtures';

describe('replay when a dependency is away', () => {
  const tenant = uniqueName('replay-outage');
  const origin = uniqueName('origin');
  const event = sampleEvent();
  const record = deadLetter(tenant, JSON.stringify(event), {
    topic: origin,
    partition: 0,
    offset: 1,
    time: new Date('2026-11-25T10:00:00Z'),
  });

  const suite = deadLetterSuite([record], { partitions: 1, build: false });

  const replay = (app: FastifyInstance, body: object) => postReplay(app, body, adminHeaders(tenant));

  it('store away: replay 503 + Retry-After at once, while /readyz stays ready and events are still accepted', async () => {
    const url = new URL(testInfra().writeUri);
    const proxy = await new TcpProxy(url.hostname, Number(url.port)).start();
    const app = await buildIngest(
      suite.topic,
      {
        MONGO_WRITE_URI: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true&retryWrites=false`,
        INGEST_STORE_TIMEOUT_MS: '500',
      },
      undefined,
      { heartbeatFrequencyMS: 500 },
    );
    try {
      expect((await replay(app, { dryRun: true })).json()).toMatchObject({ matched: 1 });
      await proxy.cut();
      const started = Date.now();
      const refused = await replay(app, {});
      expect(refused.statusCode).toBe(503);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json().detail).toMatch(/store is unreachable/);

      const ready = await app.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks.kafka).toBe('ok');
      expect(ready.json().checks.store).not.toBe('ok');
      const accepted = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: writeHeaders(tenant),
        payload: sampleEvent(),
      });
      expect(accepted.statusCode).toBe(202);
      expect(await suite.deadLetters.countDocuments({ tenant, replayedAt: { $exists: true } })).toBe(0);

      await proxy.restore();
      await waitFor(async () => (await replay(app, { dryRun: true })).statusCode === 200, {
        what: 'replay answering again',
      });
    } finally {
      await app.close();
      await proxy.stop();
    }
  });

  it('broker away: a replay is 503 + Retry-After, nothing is marked; a dry run still answers', async () => {
    // Nothing listens on port 1: the pipeline is unavailable from the start.
    const app = await buildIngest(suite.topic, { KAFKA_BROKERS: '127.0.0.1:1' });
    try {
      const refused = await replay(app, {});
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json().detail).toMatch(/broker is unreachable/);
      expect(await suite.deadLetters.countDocuments({ tenant, replayedAt: { $exists: true } })).toBe(0);
      const dry = await replay(app, { dryRun: true });
      expect(dry.statusCode).toBe(200);
      expect(dry.json()).toMatchObject({ matched: 1, replayed: 1, ids: [event.id] });
    } finally {
      await app.close();
    }
  });
});
