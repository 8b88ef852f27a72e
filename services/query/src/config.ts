import { type Static, Type } from '@sinclair/typebox';
import { CommonConfig, ConfigError, loadConfig, TOPICS } from '@splitstream/shared';

export const DEFAULT_PORT = 8082;
export const DEFAULT_MONGO_READ_URI = 'mongodb://127.0.0.1:27018/?directConnection=true&retryWrites=false';
export const DEFAULT_MONGO_WRITE_URI = 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false';
/** How long a read-your-writes read waits for the replica when the client does not say (`maxWaitMs`). */
export const DEFAULT_MAX_WAIT_MS = 2_000;
/** The most a client may ask to wait: a read never holds a connection longer than this. */
export const DEFAULT_MAX_WAIT_CAP_MS = 10_000;
/** Interval between checkpoint polls while a read waits for a token. */
export const DEFAULT_CONSISTENCY_POLL_MS = 25;
/** Freshness headers may reuse a checkpoint lookup this old (they overstate the age by at most this much). */
export const DEFAULT_FRESHNESS_CACHE_MS = 200;
/** How long a read waits for the read endpoint to be selectable before it falls back to the primary. */
export const DEFAULT_REPLICA_SELECTION_TIMEOUT_MS = 1_000;
/** How long a read waits for the primary when it is the fallback (or the read endpoint is down). */
export const DEFAULT_PRIMARY_SELECTION_TIMEOUT_MS = 2_000;
/** Heartbeat to both endpoints: how soon a stopped or recovered endpoint is noticed. */
export const DEFAULT_HEARTBEAT_MS = 1_000;
/** Upper bound of buckets a stats query may span ((until - since) / interval). */
export const DEFAULT_STATS_MAX_BUCKETS = 1_440;

export const QUERY_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT }),
    MONGO_READ_URI: Type.String({
      pattern: '^mongodb(\\+srv)?://',
      default: DEFAULT_MONGO_READ_URI,
      description: 'Read endpoint (replica; with a replica set URI the driver reads secondaryPreferred)',
    }),
    MONGO_WRITE_URI: Type.String({
      pattern: '^mongodb(\\+srv)?://',
      default: DEFAULT_MONGO_WRITE_URI,
      description: 'Primary: read only when the read endpoint is unavailable',
    }),
    KAFKA_TOPIC: Type.String({
      minLength: 1,
      default: TOPICS.events.name,
      description: 'Topic whose writer checkpoints give freshness and satisfy consistency tokens',
    }),
    READ_MAX_WAIT_MS: Type.Integer({ minimum: 0, default: DEFAULT_MAX_WAIT_MS }),
    READ_MAX_WAIT_CAP_MS: Type.Integer({ minimum: 0, maximum: 60_000, default: DEFAULT_MAX_WAIT_CAP_MS }),
    CONSISTENCY_POLL_MS: Type.Integer({ minimum: 1, maximum: 1_000, default: DEFAULT_CONSISTENCY_POLL_MS }),
    FRESHNESS_CACHE_MS: Type.Integer({ minimum: 0, maximum: 10_000, default: DEFAULT_FRESHNESS_CACHE_MS }),
    REPLICA_SELECTION_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: DEFAULT_REPLICA_SELECTION_TIMEOUT_MS,
    }),
    PRIMARY_SELECTION_TIMEOUT_MS: Type.Integer({
      minimum: 100,
      maximum: 60_000,
      default: DEFAULT_PRIMARY_SELECTION_TIMEOUT_MS,
    }),
    // The driver refuses heartbeats under 500 ms.
    STORE_HEARTBEAT_MS: Type.Integer({ minimum: 500, maximum: 60_000, default: DEFAULT_HEARTBEAT_MS }),
    STATS_MAX_BUCKETS: Type.Integer({ minimum: 1, maximum: 100_000, default: DEFAULT_STATS_MAX_BUCKETS }),
  }),
]);
export type QueryConfig = Static<typeof QUERY_CONFIG>;

export const loadQueryConfig = (env: NodeJS.ProcessEnv = process.env): QueryConfig => {
  const config = loadConfig(QUERY_CONFIG, env);
  if (config.READ_MAX_WAIT_MS > config.READ_MAX_WAIT_CAP_MS) {
    throw new ConfigError(
      `invalid configuration:\n  READ_MAX_WAIT_MS (${config.READ_MAX_WAIT_MS}) exceeds READ_MAX_WAIT_CAP_MS (${config.READ_MAX_WAIT_CAP_MS})`,
    );
  }
  return config;
};
