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

export class ValidationError extends SplitstreamError {
  override readonly status = 400;
  override readonly title = 'Bad Request';
}

export class UnauthorizedError extends SplitstreamError {
  override readonly status = 401;
  override readonly title = 'Unauthorized';
}

export class ForbiddenError extends SplitstreamError {
  override readonly status = 403;
  override readonly title = 'Forbidden';
}

export class NotFoundError extends SplitstreamError {
  override readonly status = 404;
  override readonly title = 'Not Found';
}

export class ConflictError extends SplitstreamError {
  override readonly status = 409;
  override readonly title = 'Conflict';
}

export class MethodNotAllowedError extends SplitstreamError {
  override readonly status = 405;
  override readonly title = 'Method Not Allowed';
}

export class PayloadTooLargeError extends SplitstreamError {
  override readonly status = 413;
  override readonly title = 'Payload Too Large';
}

export class UnsupportedMediaTypeError extends SplitstreamError {
  override readonly status = 415;
  override readonly title = 'Unsupported Media Type';
}

export class RateLimitedError extends SplitstreamError {
  override readonly status = 429;
  override readonly title = 'Too Many Requests';
  override readonly isRetriable = true;
}

/** A dependency (Kafka, the store, an upstream) cannot serve right now; the client may retry. */
export class UnavailableError extends SplitstreamError {
  override readonly status = 503;
  override readonly title = 'Service Unavailable';
  override readonly isRetriable = true;
}

/** A configuration value is missing or invalid: the service refuses to start. */
export class ConfigError extends SplitstreamError {}
