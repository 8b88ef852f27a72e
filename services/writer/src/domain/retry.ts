import { SplitstreamError } from '@splitstream/shared';
import { BatchAbandonedError, StoreUnknownError } from '../errors';
import type { BatchScope } from './ports';
import { StallReport } from './stall';

/** How long unclassified failures of one micro-batch are retried: per call, and all calls together. */
export class RetryBound {
  constructor(
    private readonly retriesPerCall: number,
    private readonly deadlineMs: number,
    private readonly clock: () => Date,
  ) {}

  exhausted(failures: number): boolean {
    return failures > this.retriesPerCall || this.clock().getTime() >= this.deadlineMs;
  }
}

/** Gives the batch up (without resolving further) once the consumer stops or loses the partition. */
export function throwIfStopping({ payload }: BatchScope): void {
  if (!payload.isRunning() || payload.isStale()) {
    throw new BatchAbandonedError('consumer stopping or partition revoked');
  }
}

/** Sleeps `ms` in slices no longer than the heartbeat interval, heartbeating after each. */
async function waitWithHeartbeats(scope: BatchScope, ms: number): Promise<void> {
  const { deps, payload } = scope;
  for (let remaining = ms; remaining > 0; remaining -= deps.heartbeatIntervalMs) {
    throwIfStopping(scope);
    await deps.sleep(Math.min(remaining, deps.heartbeatIntervalMs));
    await payload.heartbeat();
  }
}

/**
 * Retries `attempt` with backoff. Unclassified store failures are retried only within `bound`
 * (then rethrown for isolation); everything else retriable until it succeeds. A partition that
 * stalls says so once (log line, metric), and again when it moves on.
 */
export async function retrying<T>(
  scope: BatchScope,
  operation: string,
  attempt: () => Promise<T>,
  bound?: RetryBound,
): Promise<T> {
  const { deps } = scope;
  const stall = new StallReport(scope, operation);
  try {
    for (let failures = 0; ; ) {
      throwIfStopping(scope);
      try {
        return await attempt();
      } catch (error) {
        // Only a failure the store or sink declared permanent escapes; anything else may pass.
        if (error instanceof SplitstreamError && !error.isRetriable) throw error;
        failures += 1;
        if (error instanceof StoreUnknownError && bound && bound.exhausted(failures)) throw error;
        const delayMs = deps.backoff(failures);
        deps.observer?.retry?.(operation, error);
        stall.failed(error);
        await waitWithHeartbeats(scope, delayMs);
      }
    }
  } finally {
    stall.ended();
  }
}
