import { ensureStoreLayout, withTimeout } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { KafkaDeadLetterSink } from '../../adapters/kafka-dead-letter-sink';
import { MongoEventStore } from '../../adapters/mongo-event-store';
import { MongoRollupStore } from '../../adapters/mongo-rollup-store';
import type { WriterConfig } from '../../config';
import { backoffDelay, sleep } from '../../domain/backoff';
import { handleBatch } from '../../domain/batch-handler';
import { GroupMembership } from '../../domain/group-membership';
import type { BatchHandlerDeps } from '../../domain/ports';
import { RecentIds } from '../../domain/recent-ids';
import { appliedHeartbeat } from './applied-heartbeat';
import { WriterMetrics } from './metrics';

export interface WriterPluginOptions {
  config: WriterConfig;
}

/** A scrape must not hang on a broker that is away. */
const END_OFFSETS_TIMEOUT_MS = 1_000;

/**
 * The consumer group member. Starts once the app is ready (store layout, dead-letter producer,
 * consumer) and retries start-up with backoff, so the writer comes up before its dependencies do.
 * On close: stop fetching, let the in-flight batch finish or be abandoned without resolving past
 * it, commit what is stored, leave the group, then disconnect.
 */
export const writerPlugin = fp(
  async (app: FastifyInstance, { config }: WriterPluginOptions) => {
    const kafka = app.kafka;
    const consumer: Consumer = kafka.consumer({
      groupId: config.KAFKA_GROUP_ID,
      sessionTimeout: config.KAFKA_SESSION_TIMEOUT_MS,
      heartbeatInterval: config.KAFKA_HEARTBEAT_INTERVAL_MS,
      maxBytesPerPartition: config.KAFKA_MAX_BYTES_PER_PARTITION,
      maxBytes: config.KAFKA_MAX_BYTES,
      maxWaitTimeInMs: config.KAFKA_MAX_WAIT_MS,
      retry: {
        initialRetryTime: 300,
        retries: 10,
        // A writer that stops consuming stalls every event behind it: always restart.
        restartOnFailure: async (error) => {
          app.log.error({ err: error }, 'consumer failed, restarting it');
          return true;
        },
      },
    });
    const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    const admin: Admin = kafka.admin();

    const endOffsets = async (topic: string) => {
      const offsets = await withTimeout(admin.fetchTopicOffsets(topic), END_OFFSETS_TIMEOUT_MS);
      return new Map(offsets.map((o) => [o.partition, o.high]));
    };
    const metrics = new WriterMetrics(app.metrics, endOffsets);
    const store = new MongoEventStore(app.primaryStore.db);

    const deps: BatchHandlerDeps = {
      store,
      rollups: new MongoRollupStore(app.primaryStore.db),
      deadLetters: new KafkaDeadLetterSink(producer, config.KAFKA_DEAD_LETTER_TOPIC, app.primaryStore.db),
      clock: () => new Date(),
      sleep,
      backoff: (attempt) => backoffDelay(attempt, config.WRITER_RETRY_BASE_MS, config.WRITER_RETRY_MAX_MS),
      log: app.log,
      observer: metrics,
      recent: new RecentIds(config.WRITER_DEDUPE_CACHE_SIZE),
      microBatchSize: config.WRITER_MICRO_BATCH_SIZE,
      unknownRetries: config.WRITER_UNKNOWN_RETRIES,
      unknownRetryWindowMs: config.WRITER_UNKNOWN_RETRY_WINDOW_MS,
      maxEventBytes: config.WRITER_MAX_EVENT_BYTES,
      heartbeatIntervalMs: config.KAFKA_HEARTBEAT_INTERVAL_MS,
    };

    let joined = false;
    const membership = new GroupMembership(config.KAFKA_SESSION_TIMEOUT_MS);
    const leave = () => {
      joined = false;
      membership.left();
    };
    consumer.on(consumer.events.HEARTBEAT, () => membership.heartbeat());
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      joined = true;
      membership.joined(payload.memberAssignment);
      metrics.retainPartitions(payload.memberAssignment);
      app.log.info(
        { groupId: payload.groupId, assignment: payload.memberAssignment },
        'joined the consumer group',
      );
    });
    consumer.on(consumer.events.REBALANCING, leave);
    consumer.on(consumer.events.STOP, leave);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      leave();
      app.log.error({ err: payload.error, restart: payload.restart }, 'consumer crashed');
    });
    app.addReadinessCheck('consumer-group', async () => {
      if (!joined) throw new Error('not a member of the consumer group');
    });
    app.addReadinessCheck('partitions', async () => {
      const stalls = metrics.currentStalls();
      if (stalls.length === 0) return;
      const now = Date.now();
      throw new Error(
        stalls
          .map(
            (s) => `${s.topic}/${s.partition} stalled ${Math.round((now - s.sinceMs) / 1000)} s: ${s.reason}`,
          )
          .join('; '),
      );
    });

    const heartbeats = appliedHeartbeat({
      topic: config.KAFKA_TOPIC,
      intervalMs: config.WRITER_APPLIED_HEARTBEAT_MS,
      ports: {
        storedOffsets: (t) => store.storedOffsets(t),
        markApplied: (...a) => store.markApplied(...a),
        endOffsets,
        owned: (topic) => membership.owned(topic),
      },
      log: app.log,
      observer: metrics,
    });

    let closing = false;
    let wakeUp: () => void = () => {};
    const closed = new Promise<void>((resolve) => {
      wakeUp = resolve;
    });

    const start = async () => {
      for (let attempt = 1; !closing; attempt += 1) {
        try {
          await ensureStoreLayout(app.primaryStore.db);
          await producer.connect();
          await admin.connect();
          await consumer.connect();
          await consumer.subscribe({ topic: config.KAFKA_TOPIC, fromBeginning: true });
          if (closing) return;
          await consumer.run({
            autoCommit: true,
            autoCommitInterval: config.WRITER_COMMIT_INTERVAL_MS,
            eachBatchAutoResolve: false,
            partitionsConsumedConcurrently: config.WRITER_PARTITIONS_CONCURRENCY,
            eachBatch: async (payload) => {
              await handleBatch(payload, deps);
            },
          });
          app.log.info({ topic: config.KAFKA_TOPIC, groupId: config.KAFKA_GROUP_ID }, 'writer consuming');
          // From here its admin client is connected: the heartbeat can ask for the high watermarks.
          heartbeats.start();
          return;
        } catch (error) {
          const delayMs = backoffDelay(attempt, config.WRITER_RETRY_BASE_MS, config.WRITER_RETRY_MAX_MS);
          app.log.error({ err: error, attempt, delayMs }, 'writer start-up failed, retrying');
          await Promise.race([sleep(delayMs), closed]);
        }
      }
    };

    let starting: Promise<void> = Promise.resolve();
    app.addHook('onReady', async () => {
      // Not awaited: /healthz answers while the writer waits for its dependencies.
      starting = start();
    });

    app.addHook('onClose', async () => {
      closing = true;
      wakeUp();
      await heartbeats.stop();
      await starting;
      // Order matters: the consumer may still dead-letter while it finishes its batch.
      await consumer.disconnect();
      await producer.disconnect();
      await admin.disconnect();
    });
  },
  {
    name: 'writer-consumer',
    dependencies: ['splitstream-primary-store', 'writer-kafka', 'splitstream-observability'],
  },
);
