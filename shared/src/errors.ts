/** Error hierarchy shared by every service. One handler (problem.ts) maps these to RFC 9457 problem+json. */

export interface FieldError {
  /** JSON pointer-ish path of the offending value, e.g. `/source`, `/3/id`, `query.limit`. */
  field: string;
  message: string;
}

export interface SplitstreamErrorOptions {
  cause?: unknown;
  /** Seconds the client should wait before retrying (503, 429). */
  retryAfterSeconds?: number;
  errors?: FieldError[];
  /** Extra problem members, e.g. `sources` for an ambiguous id. */
  extensions?: Record<string, unknown>;
}

export class SplitstreamError extends Error {
  /** HTTP status this error maps to. */
  readonly status: number = 500;
  /** Short, stable problem title. */
  readonly title: string = 'Internal Server Error';
  /** Whether retrying the same operation may succeed. */
  readonly isRetriable: boolean = false;
  readonly retryAfterSeconds: number | undefined;
  readonly errors: FieldError[] | undefined;
  readonly extensions: Record<string, unknown> | undefined;

  constructor(message: string, options: SplitstreamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.errors = options.errors;
    this.extensions = options.extensions;
  }
}

/** Problem titles by HTTP status (RFC 9110 reason phrases). */
export const STATUS_TITLES: Readonly<Record<number, string>> = Object.freeze({
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
});

/** The base of the errors answered with `status` (retriable: the client may try again later). */
export function answeredWith(status: keyof typeof STATUS_TITLES, retriable = false) {
  return class extends SplitstreamError {
    override readonly status = status;
    override readonly title = STATUS_TITLES[status] ?? 'Error';
    override readonly isRetriable = retriable;
  };
}

export class ValidationError extends answeredWith(400) {}
export class UnauthorizedError extends answeredWith(401) {}
export class ForbiddenError extends answeredWith(403) {}
export class NotFoundError extends answeredWith(404) {}
export class MethodNotAllowedError extends answeredWith(405) {}
export class ConflictError extends answeredWith(409) {}
export class PayloadTooLargeError extends answeredWith(413) {}
export class UnsupportedMediaTypeError extends answeredWith(415) {}
export class RateLimitedError extends answeredWith(429, true) {}
/** A dependency (Kafka, the store, an upstream) cannot serve right now; the client may retry. */
export class UnavailableError extends answeredWith(503, true) {}

/** A configuration value is missing or invalid: the service refuses to start. */
export class ConfigError extends SplitstreamError {}
