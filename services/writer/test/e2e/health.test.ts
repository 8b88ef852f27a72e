import { createTestTopic, testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import Fastify from 'fastify';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { app } from '../../src/app';
import { loadWriterConfig } from '../../src/config';

const infra = testInfra();

describe('writer health', () => {
  let admin: Admin;
  let topic: string;

  beforeAll(async () => {
    admin = new Kafka({ brokers: infra.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    topic = await createTestTopic(admin, 'writer-health', 1);
  });
  afterAll(async () => {
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  it('is alive at once, ready once it joined its group and the store answers, and exposes its metrics', async () => {
    const server = Fastify();
    const config = loadWriterConfig({
      KAFKA_BROKERS: infra.brokers.join(','),
      MONGO_WRITE_URI: infra.writeUri,
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: topic,
      KAFKA_GROUP_ID: uniqueName('writer-health'),
    });
    await server.register(app, { config });
    try {
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

      const metrics = await server.inject('/metrics');
      for (const name of [
        'writer_events_stored_total',
        'writer_consumer_lag_seconds',
        'writer_write_duration_seconds',
        'writer_partition_stall_seconds',
      ]) {
        expect(metrics.body).toContain(name);
      }
    } finally {
      await server.close();
    }
  });

  it('is not ready while the store is unreachable', async () => {
    const server = Fastify();
    const config = loadWriterConfig({
      KAFKA_BROKERS: infra.brokers.join(','),
      // Nothing listens on port 9: connection refused.
      MONGO_WRITE_URI: 'mongodb://127.0.0.1:9/?directConnection=true&serverSelectionTimeoutMS=300',
      KAFKA_TOPIC: topic,
      KAFKA_GROUP_ID: uniqueName('writer-health'),
    });
    await server.register(app, { config });
    try {
      const response = await server.inject('/readyz');
      expect(response.statusCode).toBe(503);
      expect(response.json().checks.store).not.toBe('ok');
      expect(response.json().checks['consumer-group']).toBe('not a member of the consumer group');
    } finally {
      await server.close();
    }
  });
});
