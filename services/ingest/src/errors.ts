import { UnavailableError } from '@splitstream/shared';

/** Why ingest refused to take a request right now; the label of the rejections metric. */
export const UNAVAILABLE_REASONS = Object.freeze({
  backpressure: 'backpressure',
  broker: 'broker_unavailable',
  shuttingDown: 'shutting_down',
  eventLoop: 'event_loop',
  /** The store (dead-letter replay only) does not answer. */
  store: 'store_unavailable',
});
export type UnavailableReason = (typeof UNAVAILABLE_REASONS)[keyof typeof UNAVAILABLE_REASONS];

/** A 503 with Retry-After that also says which guard refused (for metrics and logs, not the body). */
export class IngestUnavailableError extends UnavailableError {
  constructor(
    readonly reason: UnavailableReason,
    message: string,
    options: { retryAfterSeconds: number; cause?: unknown; extensions?: Record<string, unknown> },
  ) {
    super(message, options);
  }
}
