import { SplitstreamError, UnavailableError } from '@splitstream/shared';

/**
 * The writer's failures. Unavailable ones are retried with backoff and never skipped; unknown
 * ones are retried a bounded number of times; refused ones (and unknown ones past their bound)
 * are isolated to the events that cause them, which are dead-lettered.
 */

/** The store cannot serve (unreachable, its backend down, not primary, write concern not met): retried until it can. */
export class StoreUnavailableError extends UnavailableError {}

/**
 * The store failed in a way nobody classified. Retried a bounded number of times, then treated
 * like a refusal: the batch is split and the event at fault dead-lettered, so it cannot hold a
 * partition forever.
 */
export class StoreUnknownError extends SplitstreamError {
  override readonly isRetriable = true;
}

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
