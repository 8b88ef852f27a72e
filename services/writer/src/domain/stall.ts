import { DeadLetterUnavailableError, StoreUnavailableError, StoreUnknownError } from '../errors';
import { type BatchScope, STALL_REASONS, type StallReason } from './ports';

export function stallReason(error: unknown): StallReason {
  if (error instanceof StoreUnavailableError) return STALL_REASONS.storeUnavailable;
  if (error instanceof StoreUnknownError) return STALL_REASONS.storeUnknown;
  if (error instanceof DeadLetterUnavailableError) return STALL_REASONS.deadLetterUnavailable;
  return STALL_REASONS.unknown;
}

/**
 * One retried operation's stall: said once when it starts (log line, metric) and once when the
 * operation goes through or is given up, however many retries lie between.
 */
export class StallReport {
  private stalled = false;

  constructor(
    private readonly scope: BatchScope,
    private readonly operation: string,
  ) {}

  failed(error: unknown): void {
    if (this.stalled) return;
    this.stalled = true;
    const { topic, partition, deps } = this.scope;
    const reason = stallReason(error);
    deps.observer?.stalled?.(topic, partition, reason);
    deps.log.warn(
      { err: error, topic, partition, operation: this.operation, reason },
      'partition stalled, retrying',
    );
  }

  ended(): void {
    if (!this.stalled) return;
    const { topic, partition, deps } = this.scope;
    deps.observer?.resumed?.(topic, partition);
    deps.log.info({ topic, partition, operation: this.operation }, 'partition no longer stalled');
  }
}
