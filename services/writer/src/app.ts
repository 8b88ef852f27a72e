import { observabilityPlugin, primaryStorePlugin, problemPlugin } from '@splitstream/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { WriterConfig } from './config';
import { writerPlugin } from './plugins/app/writer';
import { kafkaPlugin } from './plugins/external/kafka';

export interface AppOptions {
  config: WriterConfig;
  /** Process-wide default metrics: on in the server, off when tests build several apps in one process. */
  defaultMetrics?: boolean;
}

/**
 * The writer service as a plugin: a Kafka consumer group member writing to the store's primary.
 * HTTP is operational only (/healthz, /readyz, /metrics). Tests register it without listening.
 */
export const app: FastifyPluginAsync<AppOptions> = async (fastify, { config, defaultMetrics = false }) => {
  await fastify.register(problemPlugin);
  await fastify.register(observabilityPlugin, { service: 'writer', defaultMetrics });
  await fastify.register(primaryStorePlugin, {
    uri: config.MONGO_WRITE_URI,
    mongo: { socketTimeoutMS: config.WRITER_STORE_TIMEOUT_MS },
  });
  await fastify.register(kafkaPlugin, { brokers: config.KAFKA_BROKERS });
  await fastify.register(writerPlugin, { config });
};

export default app;
