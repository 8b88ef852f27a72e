import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { IngestConfig } from '../../config';
import { PIPELINE_STATES, ProducerPipeline } from '../../domain/pipeline';

declare module 'fastify' {
  interface FastifyInstance {
    /** Route → Kafka path: budget, micro-batcher and broker breaker. */
    pipeline: ProducerPipeline;
  }
}

export interface ProducerPluginOptions {
  config: IngestConfig;
}

/** The producer pipeline (decorated as `pipeline`) on the Kafka client, and the /readyz broker check. */
export const producerPlugin = fp(
  async (app: FastifyInstance, { config }: ProducerPluginOptions) => {
    const pipeline = new ProducerPipeline(
      app.kafka.openSession,
      {
        microbatch: config.INGEST_MICROBATCH,
        lingerMs: config.INGEST_LINGER_MS,
        maxBatchMessages: config.INGEST_BATCH_MAX_MESSAGES,
        maxBatchBytes: config.INGEST_BATCH_MAX_BYTES,
        maxPartitionBytes: config.INGEST_PARTITION_BATCH_MAX_BYTES,
        maxInflightMessages: config.INGEST_INFLIGHT_MAX_MESSAGES,
        maxInflightBytes: config.INGEST_INFLIGHT_MAX_BYTES,
        stallMs: config.INGEST_SEND_STALL_MS,
        retryAfterSeconds: config.INGEST_RETRY_AFTER_SECONDS,
      },
      app.log.child({ component: 'producer' }),
      app.ingestMetrics.producer,
    );
    app.decorate('pipeline', pipeline);
    app.kafka.onConnectionError((error) => pipeline.trip('broker connection error', error));

    // /readyz: the producer is connected and the broker answers a metadata request right now.
    app.addReadinessCheck('kafka', async () => {
      if (pipeline.state !== PIPELINE_STATES.ready) throw new Error(`producer ${pipeline.state}`);
      await app.kafka.probeTopic();
    });

    // Graceful shutdown: the HTTP server stops first; then everything queued is sent and answered.
    app.addHook('onClose', async () => {
      await pipeline.close();
    });

    // A broker that is down at boot does not stop the service: it answers 503 and keeps reconnecting.
    await pipeline.start();
  },
  { name: 'ingest-producer', dependencies: ['splitstream-observability', 'ingest-metrics', 'ingest-kafka'] },
);
