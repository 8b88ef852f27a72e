import { missingMetrics, uniqueName, waitFor } from '@splitstream/shared/testing';
import { e2eSuite, withWriterApp } from './harness';

describe('writer health', () => {
  const suite = e2eSuite();
  let topic: string;

  beforeAll(async () => {
    topic = await suite.topic('writer-health', 1);
  });

  it('is alive at once, ready once it joined its group and the store answers, and exposes its metrics', async () => {
    const env = {
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: topic,
      KAFKA_GROUP_ID: uniqueName('writer-health'),
    };
    await withWriterApp(env, async (server) => {
      const health = await server.inject('/healthz');
      expect(health.statusCode).toBe(200);
      expect(health.json()).toEqual({ status: 'ok' });

      const ready = await waitFor(
        async () => {
          const response = await server.inject('/readyz');
          return response.statusCode === 200 ? response.json() : undefined;
        },
        { what: 'writer ready' },
      );
      expect(ready).toEqual({
        status: 'ready',
        checks: { store: 'ok', 'consumer-group': 'ok', partitions: 'ok' },
      });

      const missing = await missingMetrics(server, [
        'writer_events_stored_total',
        'writer_consumer_lag_seconds',
        'writer_write_duration_seconds',
        'writer_partition_stall_seconds',
      ]);
      expect(missing).toEqual([]);
    });
  });

  it('is not ready while the store is unreachable', async () => {
    const env = {
      // Nothing listens on port 9: connection refused.
      MONGO_WRITE_URI: 'mongodb://127.0.0.1:9/?directConnection=true&serverSelectionTimeoutMS=300',
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: uniqueName('writer-health'),
    };
    await withWriterApp(env, async (server) => {
      const response = await server.inject('/readyz');
      expect(response.statusCode).toBe(503);
      expect(response.json().checks.store).not.toBe('ok');
      expect(response.json().checks['consumer-group']).toBe('not a member of the consumer group');
    });
  });
});
