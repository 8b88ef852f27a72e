import { SplitstreamError, UnavailableError } from '@splitstream/shared';

/**
 * The writer's failures. `isRetriable` decides everything: retriable ones are retried with
 * backoff and never skipped; the others are isolated to the events that cause them, which are
 * dead-lettered.
 */

/** The store did not acknowledge (unreachable, primary stepped down, write concern not met). */
export class StoreUnavailableError extends UnavailableError {}

/** The store refused a write for a reason that retrying cannot change (e.g. a document too large). */
export class StoreRejectedError extends SplitstreamError {
  override readonly isRetriable = false;
  /** The store's error code, when it gave one. */
  readonly code: number | undefined;

  constructor(message: string, options: { cause?: unknown; code?: number } = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
  }
}

/** The dead-letter topic did not acknowledge a dead letter: retried like the store. */
export class DeadLetterUnavailableError extends UnavailableError {}

/**
 * The batch was given up because the consumer is stopping or lost the partition: nothing past
 * the last stored event is resolved, so the next owner starts from there.
 */
export class BatchAbandonedError extends SplitstreamError {}
