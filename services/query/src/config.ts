import { type Static, Type } from '@sinclair/typebox';
import {
  CommonConfig,
  ConfigError,
  IntegerSetting,
  loadConfig,
  MongoUri,
  PrimaryUri,
  TOPICS,
} from '@splitstream/shared';

export const DEFAULT_PORT = 8082;
/** How long a read-your-writes read waits for the replica when the client does not say (`maxWaitMs`). */
export const DEFAULT_MAX_WAIT_MS = 2_000;

export const QUERY_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT }),
    MONGO_READ_URI: MongoUri(
      'mongodb://127.0.0.1:27018/?directConnection=true&retryWrites=false',
      'Read endpoint (replica; with a replica set URI the driver reads secondaryPreferred)',
    ),
    MONGO_WRITE_URI: PrimaryUri('Primary: read only when the read endpoint is unavailable'),
    KAFKA_TOPIC: Type.String({
      minLength: 1,
      default: TOPICS.events.name,
      description: 'Topic whose writer checkpoints give freshness and satisfy consistency tokens',
    }),
    READ_MAX_WAIT_MS: Type.Integer({ minimum: 0, default: DEFAULT_MAX_WAIT_MS }),
    READ_MAX_WAIT_CAP_MS: IntegerSetting(
      10_000,
      0,
      60_000,
      'The most a client may ask to wait: a read never holds a connection longer than this',
    ),
    CONSISTENCY_POLL_MS: IntegerSetting(
      25,
      1,
      1_000,
      'Interval between checkpoint polls while a read waits for a token',
    ),
    FRESHNESS_CACHE_MS: IntegerSetting(
      200,
      0,
      10_000,
      'Freshness headers may reuse a checkpoint lookup this old (they overstate the age by at most this much)',
    ),
    REPLICA_SELECTION_TIMEOUT_MS: IntegerSetting(
      1_000,
      100,
      60_000,
      'How long a read waits for the read endpoint to be selectable before it falls back to the primary',
    ),
    PRIMARY_SELECTION_TIMEOUT_MS: IntegerSetting(
      2_000,
      100,
      60_000,
      'How long a read waits for the primary when it is the fallback (or the read endpoint is down)',
    ),
    // The driver refuses heartbeats under 500 ms.
    STORE_HEARTBEAT_MS: IntegerSetting(
      1_000,
      500,
      60_000,
      'Heartbeat to both endpoints: how soon a stopped or recovered endpoint is noticed',
    ),
    READ_MAX_TIME_MS: IntegerSetting(
      5_000,
      50,
      120_000,
      'Time bound (maxTimeMS) of every store query a read sends; past it the read answers 503 + Retry-After',
    ),
    STATS_MAX_BUCKETS: IntegerSetting(
      1_440,
      1,
      100_000,
      'Most buckets a stats query may span ((until - since) / interval)',
    ),
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
