import { type Static, Type } from '@sinclair/typebox';
import { CommonConfig, EVENT_LIMITS, HostList, loadConfig, PrimaryUri, TOPICS } from '@splitstream/shared';

export const DEFAULT_PORT = 8081;
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';
/** How long an idle producer waits for more requests before sending: small enough to be invisible to clients. */
export const DEFAULT_LINGER_MS = 2;
/** Bounds of one coalesced sendBatch (estimated uncompressed bytes). */
export const DEFAULT_BATCH_MAX_MESSAGES = 5_000;
export const DEFAULT_BATCH_MAX_BYTES = 4 * 1024 * 1024;
/**
 * Per partition per send: kafkajs sends a partition's messages as one record batch, which the broker
 * refuses above message.max.bytes (1 MiB by default), even uncompressed. Larger requests go in parts.
 */
export const DEFAULT_PARTITION_BATCH_MAX_BYTES = 512 * 1024;
/** In-flight budget (queued + being sent): the most memory the producer side may hold. */
export const DEFAULT_INFLIGHT_MAX_MESSAGES = 20_000;
export const DEFAULT_INFLIGHT_MAX_BYTES = 32 * 1024 * 1024;
/** A send the broker has not acknowledged after this long counts as a broker outage: fail fast from then on. */
export const DEFAULT_SEND_STALL_MS = 2_000;
export const DEFAULT_RETRY_AFTER_SECONDS = 1;
/** Event-loop delay above which requests get 503 at once instead of queueing in a saturated process. */
export const DEFAULT_MAX_EVENT_LOOP_DELAY_MS = 1_000;
/** How long a replay waits for the store to be selectable before answering 503. */
export const DEFAULT_STORE_TIMEOUT_MS = 2_000;

export const COMPRESSIONS = Object.freeze({ none: 'none', gzip: 'gzip' });
export type Compression = (typeof COMPRESSIONS)[keyof typeof COMPRESSIONS];

export const INGEST_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT }),
    KAFKA_BROKERS: Type.String({
      pattern: HostList.pattern,
      default: DEFAULT_KAFKA_BROKERS,
      description: 'Comma-separated host:port',
    }),
    KAFKA_TOPIC: Type.String({ minLength: 1, default: TOPICS.events.name }),
    KAFKA_COMPRESSION: Type.Union([Type.Literal(COMPRESSIONS.gzip), Type.Literal(COMPRESSIONS.none)], {
      default: COMPRESSIONS.gzip,
    }),
    INGEST_MICROBATCH: Type.Boolean({
      default: true,
      description:
        'Coalesce concurrent requests into one sendBatch (false: one send per request, for comparison)',
    }),
    INGEST_LINGER_MS: Type.Integer({ minimum: 0, maximum: 1_000, default: DEFAULT_LINGER_MS }),
    INGEST_BATCH_MAX_MESSAGES: Type.Integer({ minimum: 1, default: DEFAULT_BATCH_MAX_MESSAGES }),
    INGEST_BATCH_MAX_BYTES: Type.Integer({ minimum: 1024, default: DEFAULT_BATCH_MAX_BYTES }),
    INGEST_PARTITION_BATCH_MAX_BYTES: Type.Integer({
      minimum: 1024,
      default: DEFAULT_PARTITION_BATCH_MAX_BYTES,
    }),
    // The budget must hold at least one largest request, or a valid batch could never be accepted.
    INGEST_INFLIGHT_MAX_MESSAGES: Type.Integer({
      minimum: EVENT_LIMITS.maxBatchEvents,
      default: DEFAULT_INFLIGHT_MAX_MESSAGES,
    }),
    INGEST_INFLIGHT_MAX_BYTES: Type.Integer({
      minimum: 2 * EVENT_LIMITS.maxBatchBytes,
      default: DEFAULT_INFLIGHT_MAX_BYTES,
    }),
    INGEST_SEND_STALL_MS: Type.Integer({ minimum: 100, default: DEFAULT_SEND_STALL_MS }),
    INGEST_RETRY_AFTER_SECONDS: Type.Integer({
      minimum: 1,
      maximum: 300,
      default: DEFAULT_RETRY_AFTER_SECONDS,
    }),
    INGEST_MAX_EVENT_LOOP_DELAY_MS: Type.Integer({
      minimum: 0,
      default: DEFAULT_MAX_EVENT_LOOP_DELAY_MS,
      description: 'Event-loop delay above which ingest requests get 503 at once; 0 turns shedding off',
    }),
    MONGO_WRITE_URI: PrimaryUri('Store primary: dead-letter replay reads (and marks) the records there'),
    INGEST_STORE_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: DEFAULT_STORE_TIMEOUT_MS,
    }),
  }),
]);
export type IngestConfig = Static<typeof INGEST_CONFIG>;

export const loadIngestConfig = (env: NodeJS.ProcessEnv = process.env): IngestConfig =>
  loadConfig(INGEST_CONFIG, env);
