import { type Static, Type } from '@sinclair/typebox';
import { BODY_LIMITS, CommonConfig, loadConfig, READINESS_TIMEOUT_MS } from '@splitstream/shared';

export const DEFAULT_PORT = 8080;
export const DEFAULT_INGEST_UPSTREAMS = 'http://127.0.0.1:8081';
export const DEFAULT_QUERY_UPSTREAMS = 'http://127.0.0.1:8082';
/** Per API key, per window; a key file entry may set its own `rateLimit`. */
export const DEFAULT_RATE_LIMIT_MAX = 6_000;
export const DEFAULT_RATE_LIMIT_WINDOW_MS = 60_000;
/** One event is ≤ 256 KiB serialized; the envelope (whitespace, gzip framing) gets some slack. */
export const DEFAULT_EVENT_BODY_LIMIT_BYTES = BODY_LIMITS.event;
/** A batch is ≤ 1 MiB as sent (compressed or not); ingest enforces the bound after inflation. */
export const DEFAULT_BATCH_BODY_LIMIT_BYTES = BODY_LIMITS.batch;
export const DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS = 2_000;
/** Longer than query's longest read-your-writes wait, so a bounded wait is never cut short here. */
export const DEFAULT_UPSTREAM_HEADERS_TIMEOUT_MS = 35_000;
export const DEFAULT_UPSTREAM_BODY_TIMEOUT_MS = 30_000;
export const DEFAULT_UPSTREAM_CONNECTIONS = 128;
export const DEFAULT_HEALTH_CHECK_INTERVAL_MS = 2_000;
/** Above the services' own readiness bound, so a slow dependency never reads as a dead instance. */
export const DEFAULT_HEALTH_CHECK_TIMEOUT_MS = READINESS_TIMEOUT_MS + 1_500;
/** Consecutive transport failures that eject an instance (a refused connection ejects at once). */
export const DEFAULT_EJECTION_THRESHOLD = 3;
/** An ejected instance stays out at least this long, even if its health check passes sooner. */
export const DEFAULT_EJECTION_MIN_MS = 1_000;
/** Retry-After sent with a 503 when no instance of an upstream is available. */
export const DEFAULT_UNAVAILABLE_RETRY_AFTER_S = 2;
export const DEFAULT_OPENAPI_REFRESH_MS = 60_000;
/** How often API_KEYS_FILE is looked at: a key created or revoked applies within this. */
export const DEFAULT_API_KEYS_RELOAD_MS = 250;

const UrlList = Type.String({ pattern: '^https?://[^,\\s]+(,\\s*https?://[^,\\s]+)*$' });
const Millis = (value: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 600_000, default: value, description });

export const GATEWAY_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT }),
    INGEST_UPSTREAMS: Type.String({
      ...UrlList,
      default: DEFAULT_INGEST_UPSTREAMS,
      description: 'Comma-separated base URLs of the ingest instances',
    }),
    QUERY_UPSTREAMS: Type.String({
      ...UrlList,
      default: DEFAULT_QUERY_UPSTREAMS,
      description: 'Comma-separated base URLs of the query instances',
    }),
    API_KEYS_FILE: Type.String({
      default: '',
      description:
        'JSON file: array of {id, hash (sha256 hex of the key), tenant, scopes[], rateLimit?, prefix?, created?}; re-read when it changes',
    }),
    API_KEYS_RELOAD_MS: Millis(
      DEFAULT_API_KEYS_RELOAD_MS,
      'How often API_KEYS_FILE is checked for changes (re-read when it changed)',
    ),
    API_KEYS: Type.String({
      default: '',
      description: 'The same JSON array inline (added to the file’s keys)',
    }),
    RATE_LIMIT_MAX: Type.Integer({ minimum: 1, default: DEFAULT_RATE_LIMIT_MAX }),
    RATE_LIMIT_WINDOW_MS: Millis(DEFAULT_RATE_LIMIT_WINDOW_MS, 'Rate limit window per API key'),
    CORS_ORIGINS: Type.String({
      default: '',
      description: 'Comma-separated allowed browser origins, `*` for any; empty disables CORS',
    }),
    EVENT_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1, default: DEFAULT_EVENT_BODY_LIMIT_BYTES }),
    BATCH_BODY_LIMIT_BYTES: Type.Integer({ minimum: 1, default: DEFAULT_BATCH_BODY_LIMIT_BYTES }),
    UPSTREAM_CONNECT_TIMEOUT_MS: Millis(DEFAULT_UPSTREAM_CONNECT_TIMEOUT_MS, 'TCP connect timeout'),
    UPSTREAM_HEADERS_TIMEOUT_MS: Millis(DEFAULT_UPSTREAM_HEADERS_TIMEOUT_MS, 'Wait for response headers'),
    UPSTREAM_BODY_TIMEOUT_MS: Millis(DEFAULT_UPSTREAM_BODY_TIMEOUT_MS, 'Idle time between body chunks'),
    UPSTREAM_CONNECTIONS: Type.Integer({ minimum: 1, default: DEFAULT_UPSTREAM_CONNECTIONS }),
    HEALTH_CHECK_INTERVAL_MS: Millis(DEFAULT_HEALTH_CHECK_INTERVAL_MS, 'Active /readyz check period'),
    HEALTH_CHECK_TIMEOUT_MS: Millis(DEFAULT_HEALTH_CHECK_TIMEOUT_MS, 'Active check timeout'),
    EJECTION_THRESHOLD: Type.Integer({ minimum: 1, default: DEFAULT_EJECTION_THRESHOLD }),
    EJECTION_MIN_MS: Millis(DEFAULT_EJECTION_MIN_MS, 'Minimum time an ejected instance stays out'),
    UNAVAILABLE_RETRY_AFTER_S: Type.Integer({ minimum: 1, default: DEFAULT_UNAVAILABLE_RETRY_AFTER_S }),
    OPENAPI_REFRESH_MS: Millis(
      DEFAULT_OPENAPI_REFRESH_MS,
      'How often the merged OpenAPI document is rebuilt',
    ),
  }),
]);
export type GatewayConfig = Static<typeof GATEWAY_CONFIG>;

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig =>
  loadConfig(GATEWAY_CONFIG, env);
