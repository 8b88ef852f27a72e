import { type Static, Type } from '@sinclair/typebox';
import { CommonConfig, EVENT_LIMITS, HostList, loadConfig, TOPICS } from '@splitstream/shared';

export const DEFAULT_PORT = 8083;
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';
export const DEFAULT_GROUP_ID = 'splitstream-writer';
export const DEFAULT_MONGO_WRITE_URI = 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false';
/** Events per bulk write: large enough to amortise the round trip, small enough to bound a retry. */
export const DEFAULT_MICRO_BATCH_SIZE = 1_000;
/** Partitions processed at once by one instance (each has at most one fetched batch in memory). */
export const DEFAULT_PARTITIONS_CONCURRENCY = 3;
/** Fetch limits: what bounds the writer's memory (kafkajs holds at most this much fetched data). */
export const DEFAULT_MAX_BYTES_PER_PARTITION = 1024 * 1024;
export const DEFAULT_MAX_BYTES = 10 * 1024 * 1024;
export const DEFAULT_MAX_WAIT_MS = 500;
export const DEFAULT_SESSION_TIMEOUT_MS = 30_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 3_000;
/** Resolved offsets are also committed between micro-batches at this pace (and always after each batch). */
export const DEFAULT_COMMIT_INTERVAL_MS = 1_000;
export const DEFAULT_RETRY_BASE_MS = 100;
export const DEFAULT_RETRY_MAX_MS = 10_000;
/** An unclassified store failure is retried this often, within this time, before its batch is split. */
export const DEFAULT_UNKNOWN_RETRIES = 3;
export const DEFAULT_UNKNOWN_RETRY_WINDOW_MS = 10_000;
/** Identities remembered as stored (about 100 bytes each): known duplicates skip the bulk insert. */
export const DEFAULT_DEDUPE_CACHE_SIZE = 100_000;
/**
 * Largest Kafka value stored. Ingest caps events at 256 KiB; the headroom covers what ingest adds
 * (`time`) and stays far below the store's 16 MiB document limit. Larger values are dead-lettered.
 */
export const DEFAULT_MAX_EVENT_BYTES = 2 * EVENT_LIMITS.maxEventBytes;

const Milliseconds = (defaultValue: number, description: string) =>
  Type.Integer({ minimum: 1, default: defaultValue, description });

export const WRITER_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: DEFAULT_PORT,
      description: '/healthz /readyz /metrics',
    }),
    KAFKA_BROKERS: Type.String({
      pattern: HostList.pattern,
      default: DEFAULT_KAFKA_BROKERS,
      description: 'Comma-separated host:port list',
    }),
    KAFKA_TOPIC: Type.String({ minLength: 1, default: TOPICS.events.name }),
    KAFKA_DEAD_LETTER_TOPIC: Type.String({ minLength: 1, default: TOPICS.deadLetter.name }),
    KAFKA_GROUP_ID: Type.String({ minLength: 1, default: DEFAULT_GROUP_ID }),
    MONGO_WRITE_URI: Type.String({ pattern: '^mongodb(\\+srv)?://', default: DEFAULT_MONGO_WRITE_URI }),
    WRITER_MICRO_BATCH_SIZE: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: DEFAULT_MICRO_BATCH_SIZE,
    }),
    WRITER_PARTITIONS_CONCURRENCY: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: DEFAULT_PARTITIONS_CONCURRENCY,
    }),
    WRITER_MAX_EVENT_BYTES: Type.Integer({
      minimum: 1024,
      maximum: 16 * 1024 * 1024,
      default: DEFAULT_MAX_EVENT_BYTES,
    }),
    WRITER_DEDUPE_CACHE_SIZE: Type.Integer({
      minimum: 0,
      maximum: 10_000_000,
      default: DEFAULT_DEDUPE_CACHE_SIZE,
    }),
    WRITER_RETRY_BASE_MS: Milliseconds(
      DEFAULT_RETRY_BASE_MS,
      'First backoff delay after a retriable failure',
    ),
    WRITER_RETRY_MAX_MS: Milliseconds(
      DEFAULT_RETRY_MAX_MS,
      'Backoff ceiling (retries of a store that cannot serve never give up)',
    ),
    WRITER_UNKNOWN_RETRIES: Type.Integer({
      minimum: 0,
      maximum: 100,
      default: DEFAULT_UNKNOWN_RETRIES,
      description:
        'Retries of an unclassified store failure before the batch is split and the culprit dead-lettered',
    }),
    WRITER_UNKNOWN_RETRY_WINDOW_MS: Milliseconds(
      DEFAULT_UNKNOWN_RETRY_WINDOW_MS,
      'Longest a micro-batch retries unclassified store failures before isolating the culprit',
    ),
    WRITER_COMMIT_INTERVAL_MS: Milliseconds(DEFAULT_COMMIT_INTERVAL_MS, 'Offset commit pace within a batch'),
    KAFKA_MAX_BYTES_PER_PARTITION: Type.Integer({ minimum: 1024, default: DEFAULT_MAX_BYTES_PER_PARTITION }),
    KAFKA_MAX_BYTES: Type.Integer({ minimum: 1024, default: DEFAULT_MAX_BYTES }),
    KAFKA_MAX_WAIT_MS: Milliseconds(DEFAULT_MAX_WAIT_MS, 'Longest a fetch waits for data'),
    KAFKA_SESSION_TIMEOUT_MS: Milliseconds(DEFAULT_SESSION_TIMEOUT_MS, 'Group session timeout'),
    KAFKA_HEARTBEAT_INTERVAL_MS: Milliseconds(DEFAULT_HEARTBEAT_INTERVAL_MS, 'Group heartbeat interval'),
  }),
]);
export type WriterConfig = Static<typeof WRITER_CONFIG>;

export const loadWriterConfig = (env: NodeJS.ProcessEnv = process.env): WriterConfig =>
  loadConfig(WRITER_CONFIG, env);
