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
import type { OpenSession, ProducerSession } from '../../domain/pipeline';

/** The Kafka client as the rest of ingest sees it: producer sessions, a topic probe, connection errors. */
export interface IngestKafka {
  readonly client: Kafka;
  /** A fresh idempotent producer on the topic (acks=all); the pipeline decides when. */
  readonly openSession: OpenSession;
  /** Fetches the topic's metadata from the broker now (the /readyz broker check). */
  probeTopic(): Promise<void>;
  /** Called on every broker socket error, at once (not after kafkajs's retries). */
  onConnectionError(listener: (error: Error) => void): void;
}

declare module 'fastify' {
  interface FastifyInstance {
    kafka: IngestKafka;
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

/** The Kafka client (decorated as `kafka`): producer sessions on the topic and the readiness admin. */
export const kafkaPlugin = fp(
  async (app: FastifyInstance, options: KafkaPluginOptions) => {
    const { config } = options;
    const topic = config.KAFKA_TOPIC;
    const compression =
      config.KAFKA_COMPRESSION === COMPRESSIONS.gzip ? CompressionTypes.GZIP : CompressionTypes.None;
    const errorListeners: Array<(error: Error) => void> = [];
    const client = createKafka({
      clientId: 'splitstream-ingest',
      brokers: splitList(config.KAFKA_BROKERS),
      // Fastify's logger is pino; its declared type is the narrower FastifyBaseLogger.
      logger: app.log as unknown as Parameters<typeof createKafka>[0]['logger'],
      overrides: {
        retry: CLIENT_RETRY,
        ...options.kafka,
        socketFactory: observedSocketFactory(
          options.kafka?.socketFactory ?? defaultSocketFactory,
          (error) => {
            for (const listener of errorListeners) listener(error);
          },
        ),
      },
    });

    const openSession = async (): Promise<ProducerSession> => {
      const producer = client.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: PRODUCER_RETRY,
      });
      try {
        await producer.connect();
        const partitions = await topicPartitions(client, topic);
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

    // One admin kept for /readyz, replaced after any failure.
    let readinessAdmin: Admin | undefined;
    const probeTopic = async (): Promise<void> => {
      try {
        if (!readinessAdmin) {
          readinessAdmin = client.admin();
          await readinessAdmin.connect();
        }
        await readinessAdmin.fetchTopicMetadata({ topics: [topic] });
      } catch (error) {
        const admin = readinessAdmin;
        readinessAdmin = undefined;
        await admin?.disconnect().catch(() => undefined);
        throw error;
      }
    };

    app.decorate('kafka', {
      client,
      openSession,
      probeTopic,
      onConnectionError: (listener) => {
        errorListeners.push(listener);
      },
    } satisfies IngestKafka);

    // Producers belong to the sessions the pipeline opens and closes; only the admin is ours.
    app.addHook('onClose', async () => {
      await readinessAdmin?.disconnect().catch(() => undefined);
    });
  },
  { name: 'ingest-kafka', dependencies: ['splitstream-observability'] },
);
