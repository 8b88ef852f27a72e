import { isIP, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createKafka, splitList } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import {
  type Admin,
  CompressionTypes,
  type ISocketFactory,
  type Kafka,
  type KafkaConfig,
  Partitioners,
} from 'kafkajs';
import { COMPRESSIONS, type IngestConfig } from '../../config';
import { ProducerPipeline, type ProducerSession } from '../../domain/pipeline';

declare module 'fastify' {
  interface FastifyInstance {
    /** Route → Kafka path: budget, micro-batcher and broker breaker. */
    pipeline: ProducerPipeline;
  }
}

export interface KafkaPluginOptions {
  config: IngestConfig;
  /** kafkajs overrides for tests (e.g. a socketFactory through a TcpProxy). */
  kafka?: Partial<KafkaConfig>;
}

/** Connection attempts give up fast, so the breaker's own loop (not kafkajs) decides when to try again. */
const CLIENT_RETRY = { initialRetryTime: 100, maxRetryTime: 1_000, retries: 3 };
/**
 * A send retries for a few seconds, then fails; the pipeline then discards that producer and opens
 * a new one (fresh producer id), which is what keeps a bounded retry count safe for idempotence.
 */
const PRODUCER_RETRY = { initialRetryTime: 100, maxRetryTime: 1_000, retries: 5 };
const KEEP_ALIVE_MS = 60_000;

/** kafkajs's own socket factory (plain TCP or TLS), for when no override is given. */
const defaultSocketFactory: ISocketFactory = ({ host, port, ssl, onConnect }) => {
  const socket = ssl
    ? tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...ssl }, onConnect)
    : netConnect({ host, port }, onConnect);
  socket.setKeepAlive(true, KEEP_ALIVE_MS);
  return socket;
};

/** Wraps a socket factory so a broker connection error reaches the breaker at once, not after kafkajs's retries. */
function observedSocketFactory(factory: ISocketFactory, onError: (error: Error) => void): ISocketFactory {
  return (args) => {
    const socket = factory(args);
    socket.on('error', onError);
    return socket;
  };
}

async function topicPartitions(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]?.partitions.length ?? 0;
    if (partitions === 0) throw new Error(`topic ${topic} has no partitions`);
    return partitions;
  } finally {
    await admin.disconnect();
  }
}

/** The Kafka client, the producer pipeline (decorated as `pipeline`) and the /readyz broker check. */
export const kafkaPlugin = fp(
  async (app: FastifyInstance, options: KafkaPluginOptions) => {
    const { config } = options;
    const topic = config.KAFKA_TOPIC;
    const compression =
      config.KAFKA_COMPRESSION === COMPRESSIONS.gzip ? CompressionTypes.GZIP : CompressionTypes.None;
    let pipeline: ProducerPipeline | undefined;
    const kafka = createKafka({
      clientId: 'splitstream-ingest',
      brokers: splitList(config.KAFKA_BROKERS),
      // Fastify's logger is pino; its declared type is the narrower FastifyBaseLogger.
      logger: app.log as unknown as Parameters<typeof createKafka>[0]['logger'],
      overrides: {
        retry: CLIENT_RETRY,
        ...options.kafka,
        socketFactory: observedSocketFactory(options.kafka?.socketFactory ?? defaultSocketFactory, (error) =>
          pipeline?.trip('broker connection error', error),
        ),
      },
    });

    const openSession = async (): Promise<ProducerSession> => {
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: PRODUCER_RETRY,
      });
      try {
        await producer.connect();
        const partitions = await topicPartitions(kafka, topic);
        return {
          partitions,
          sendBatch: (messages) =>
            producer.sendBatch({ topicMessages: [{ topic, messages }], acks: -1, compression }),
          disconnect: () => producer.disconnect(),
        };
      } catch (error) {
        await producer.disconnect().catch(() => undefined);
        throw error;
      }
    };

    pipeline = new ProducerPipeline(
      openSession,
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

    // /readyz: the producer is connected and the broker answers a metadata request right now.
    let readinessAdmin: Admin | undefined;
    app.addReadinessCheck('kafka', async () => {
      if (pipeline.state !== 'ready') throw new Error(`producer ${pipeline.state}`);
      try {
        if (!readinessAdmin) {
          readinessAdmin = kafka.admin();
          await readinessAdmin.connect();
        }
        await readinessAdmin.fetchTopicMetadata({ topics: [topic] });
      } catch (error) {
        const admin = readinessAdmin;
        readinessAdmin = undefined;
        await admin?.disconnect().catch(() => undefined);
        throw error;
      }
    });

    // Graceful shutdown: the HTTP server stops first; then everything queued is sent and answered.
    app.addHook('onClose', async () => {
      await pipeline.close();
      await readinessAdmin?.disconnect().catch(() => undefined);
    });

    // A broker that is down at boot does not stop the service: it answers 503 and keeps reconnecting.
    await pipeline.start();
  },
  { name: 'ingest-kafka', dependencies: ['splitstream-observability', 'ingest-metrics'] },
);
