import {
  CloudEventSchema,
  internalAuthPlugin,
  observabilityPlugin,
  openapiPlugin,
  ProblemSchema,
  primaryStorePlugin,
  problemPlugin,
} from '@splitstream/shared';
import type { FastifyPluginAsync } from 'fastify';
import type { KafkaConfig } from 'kafkajs';
import type { MongoClientOptions } from 'mongodb';
import type { IngestConfig } from './config';
import { ingestMetricsPlugin } from './plugins/app/metrics';
import { producerPlugin } from './plugins/app/producer';
import { kafkaPlugin } from './plugins/external/kafka';
import { deadLetterRoutes } from './routes/deadletters';
import { eventRoutes } from './routes/events';

export interface AppOptions {
  config: IngestConfig;
  /** kafkajs overrides for tests (e.g. a socketFactory through a TcpProxy); never from the environment. */
  kafka?: Partial<KafkaConfig>;
  /** MongoDB driver overrides for tests; never from the environment. */
  mongo?: MongoClientOptions;
}

/** The ingest service as a plugin: tests register it without listening, server.ts listens. */
export const app: FastifyPluginAsync<AppOptions> = async (fastify, options) => {
  const { config } = options;
  await fastify.register(problemPlugin);
  await fastify.register(observabilityPlugin, { service: 'ingest' });
  await fastify.register(openapiPlugin, {
    title: 'Splitstream ingest',
    description:
      'Event intake: CloudEvents in, durable in Kafka (acks=all) before 202; dead letters replayed through the same path.',
  });
  // Shared schemas become components of the OpenAPI document; routes refer to them by $id.
  fastify.addSchema(CloudEventSchema);
  fastify.addSchema(ProblemSchema);
  await fastify.register(internalAuthPlugin, { secret: config.INTERNAL_AUTH_SECRET });
  await fastify.register(ingestMetricsPlugin);
  await fastify.register(kafkaPlugin, { config, ...(options.kafka ? { kafka: options.kafka } : {}) });
  // Before the store: the store closes first on shutdown (onClose runs in reverse), as it always did.
  await fastify.register(producerPlugin, { config });
  // The replay answers 503 + Retry-After by itself while the store is away: not a readiness condition.
  await fastify.register(primaryStorePlugin, {
    uri: config.MONGO_WRITE_URI,
    mongo: { serverSelectionTimeoutMS: config.INGEST_STORE_TIMEOUT_MS, ...options.mongo },
    required: false,
  });
  await fastify.register(eventRoutes, { config });
  await fastify.register(deadLetterRoutes, { config });
};

export default app;
