import { type Static, Type } from '@sinclair/typebox';
import {
  CommonConfig,
  EVENT_LIMITS,
  HostList,
  IntegerSetting,
  loadConfig,
  PrimaryUri,
  TOPICS,
} from '@splitstream/shared';

const Milliseconds = (defaultValue: number, description: string) =>
  Type.Integer({ minimum: 1, default: defaultValue, description });

export const WRITER_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: IntegerSetting(8083, 0, 65535, '/healthz /readyz /metrics'),
    KAFKA_BROKERS: Type.String({
      pattern: HostList.pattern,
      default: '127.0.0.1:9092',
      description: 'Comma-separated host:port list',
    }),
    KAFKA_TOPIC: Type.String({ minLength: 1, default: TOPICS.events.name }),
    KAFKA_DEAD_LETTER_TOPIC: Type.String({ minLength: 1, default: TOPICS.deadLetter.name }),
    KAFKA_GROUP_ID: Type.String({ minLength: 1, default: 'splitstream-writer' }),
    MONGO_WRITE_URI: PrimaryUri('Primary the events, checkpoints and dead letters are written to'),
    WRITER_MICRO_BATCH_SIZE: IntegerSetting(
      1_000,
      1,
      100_000,
      'Events per bulk write: large enough to amortise the round trip, small enough to bound a retry',
    ),
    WRITER_PARTITIONS_CONCURRENCY: IntegerSetting(
      3,
      1,
      64,
      'Partitions processed at once by one instance (each has at most one fetched batch in memory)',
    ),
    // Ingest caps events at 256 KiB; the headroom covers what ingest adds (`time`) and stays far
    // below the store's 16 MiB document limit.
    WRITER_MAX_EVENT_BYTES: IntegerSetting(
      2 * EVENT_LIMITS.maxEventBytes,
      1024,
      16 * 1024 * 1024,
      'Largest Kafka value stored; larger values are dead-lettered',
    ),
    WRITER_DEDUPE_CACHE_SIZE: IntegerSetting(
      100_000,
      0,
      10_000_000,
      'Identities remembered as stored (about 100 bytes each): known duplicates skip the bulk insert',
    ),
    WRITER_RETRY_BASE_MS: Milliseconds(100, 'First backoff delay after a retriable failure'),
    WRITER_RETRY_MAX_MS: Milliseconds(
      10_000,
      'Backoff ceiling (retries of a store that cannot serve never give up)',
    ),
    WRITER_UNKNOWN_RETRIES: IntegerSetting(
      3,
      0,
      100,
      'Retries of an unclassified store failure before the batch is split and the culprit dead-lettered',
    ),
    WRITER_UNKNOWN_RETRY_WINDOW_MS: Milliseconds(
      10_000,
      'Longest a micro-batch retries unclassified store failures before isolating the culprit',
    ),
    // Below the group session timeout: a call that never returns would otherwise outlive the
    // partition's ownership (no heartbeat while it waits).
    WRITER_STORE_TIMEOUT_MS: Milliseconds(
      15_000,
      'Longest one store call waits for its answer (socket timeout); past it the call counts as a store that cannot be reached and is retried',
    ),
    WRITER_COMMIT_INTERVAL_MS: Milliseconds(
      1_000,
      'Resolved offsets are committed at this pace within a batch (and always after each batch)',
    ),
    WRITER_APPLIED_HEARTBEAT_MS: IntegerSetting(
      1_000,
      100,
      60_000,
      'How often caught-up partitions are marked applied as of now, events or not (the read side staleness bound)',
    ),
    // Fetch limits bound the writer's memory: kafkajs holds at most this much fetched data.
    KAFKA_MAX_BYTES_PER_PARTITION: Type.Integer({ minimum: 1024, default: 1024 * 1024 }),
    KAFKA_MAX_BYTES: Type.Integer({ minimum: 1024, default: 10 * 1024 * 1024 }),
    KAFKA_MAX_WAIT_MS: Milliseconds(500, 'Longest a fetch waits for data'),
    KAFKA_SESSION_TIMEOUT_MS: Milliseconds(30_000, 'Group session timeout'),
    KAFKA_HEARTBEAT_INTERVAL_MS: Milliseconds(3_000, 'Group heartbeat interval'),
  }),
]);
export type WriterConfig = Static<typeof WRITER_CONFIG>;

export const loadWriterConfig = (env: NodeJS.ProcessEnv = process.env): WriterConfig =>
  loadConfig(WRITER_CONFIG, env);
