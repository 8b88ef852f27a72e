import { uniqueName, waitFor } from '@splitstream/shared/testing';
import { buildReadyIngest, consumeTopic, ingestSuite, postEvent, sampleEvent } from './helpers';

describe('graceful shutdown (real broker)', () => {
  const suite = ingestSuite({ build: false });
  const tenant = uniqueName('tenant');

  it('flushes what is pending on close: every 202 is in Kafka, the rest is refused with 503', async () => {
    // A long linger keeps requests queued in the micro-batcher when close() begins.
    const app = await buildReadyIngest(suite.topic, { INGEST_LINGER_MS: '1000' });
    const events = Array.from({ length: 300 }, (_, i) => sampleEvent({ subject: `s-${i % 10}` }));
    const pending = events.map((event) => postEvent(app, tenant, event));
    // Shut down while requests wait in the micro-batcher's queue for the linger to end.
    let closing: Promise<void> | undefined;
    try {
      await waitFor(
        async () => {
          const metrics = (await app.inject('/metrics')).body;
          return Number(/ingest_inflight_messages\{[^}]*\} (\d+)/.exec(metrics)?.[1]) >= 50;
        },
        { intervalMs: 5, what: 'queued requests' },
      );
    } finally {
      closing = app.close();
    }
    const responses = await Promise.all(pending);
    await closing;

    const accepted = events.filter((_, i) => responses[i]?.statusCode === 202).map((e) => String(e.id));
    const refused = responses.filter((r) => r.statusCode === 503);
    expect(accepted.length + refused.length).toBe(events.length);
    expect(accepted.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.headers['retry-after']).toBeDefined();

    const messages = await consumeTopic(suite.kafka, suite.topic, accepted.length);
    const inTopic = new Set(messages.map((m) => String(m.value.id)));
    expect(accepted.filter((id) => !inTopic.has(id))).toEqual([]);
  });
});
