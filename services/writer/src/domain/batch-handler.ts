import {
  type Checkpoint,
  checkpointId,
  DEAD_LETTER_REASONS,
  deadLetterReason,
  SplitstreamError,
  type StoredEvent,
} from '@splitstream/shared';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import {
  BatchAbandonedError,
  DeadLetterUnavailableError,
  StoreRejectedError,
  StoreUnavailableError,
  StoreUnknownError,
} from '../errors';
import { type DeadLetter, decodeMessage } from './decode';
import type { RecentIds } from './recent-ids';

/** What the store made of one bulk insert. */
export interface InsertOutcome {
  inserted: number;
  /** Already stored (same tenant, source and id): no-ops, not failures. */
  duplicates: number;
  /** Documents refused for good, by their index in the call. */
  rejected: Array<{ index: number; code?: number; message: string }>;
}

/**
 * The store as the handler needs it. Errors are StoreUnavailableError (retried until it serves),
 * StoreUnknownError (retried a bounded number of times) or StoreRejectedError (isolated at once).
 */
export interface EventStore {
  insertEvents(docs: StoredEvent[]): Promise<InsertOutcome>;
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
}

/** Where dead letters go (topic and store). Errors are retried; sending twice must be harmless. */
export interface DeadLetterSink {
  send(letters: DeadLetter[]): Promise<void>;
}

/** Position of one partition, for the lag metrics. */
export interface PartitionProgress {
  topic: string;
  partition: number;
  highWatermark: string;
  /** First offset not stored yet. */
  nextOffset: string;
  /** Kafka timestamp (ms) of the oldest event not stored yet, when there is one. */
  oldestUnstoredMs: number | undefined;
}

/** Hooks for metrics; every member optional so tests pass only what they look at. */
export interface BatchObserver {
  stored?(topic: string, count: number): void;
  duplicates?(topic: string, count: number): void;
  deadLettered?(reasonCode: string, count: number): void;
  microBatch?(size: number, writeSeconds: number): void;
  retry?(operation: string, error: unknown): void;
  progress?(progress: PartitionProgress): void;
  /** A partition stopped advancing: `operation` keeps failing for `reason` (see stallReason). */
  stalled?(topic: string, partition: number, reason: StallReason): void;
  /** The operation that stalled the partition went through (or was given up and isolated). */
  resumed?(topic: string, partition: number): void;
}

/** Why a partition is not advancing, as the metric label and readiness detail say it. */
export const STALL_REASONS = Object.freeze({
  storeUnavailable: 'store-unavailable',
  storeUnknown: 'store-unknown',
  deadLetterUnavailable: 'dead-letter-unavailable',
  unknown: 'unknown',
} as const);
export type StallReason = (typeof STALL_REASONS)[keyof typeof STALL_REASONS];

export function stallReason(error: unknown): StallReason {
  if (error instanceof StoreUnavailableError) return STALL_REASONS.storeUnavailable;
  if (error instanceof StoreUnknownError) return STALL_REASONS.storeUnknown;
  if (error instanceof DeadLetterUnavailableError) return STALL_REASONS.deadLetterUnavailable;
  return STALL_REASONS.unknown;
}

export interface HandlerLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface BatchHandlerDeps {
  store: EventStore;
  deadLetters: DeadLetterSink;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** Delay before retry number `attempt` (1-based). */
  backoff: (attempt: number) => number;
  log: HandlerLog;
  observer?: BatchObserver;
  /** Identities recently acknowledged by the store: known duplicates are not written again. */
  recent?: RecentIds;
  microBatchSize: number;
  maxEventBytes: number;
  /** Retries of a store failure nobody classified, before the batch is split to isolate the culprit. */
  unknownRetries: number;
  /** Longest time a micro-batch spends retrying unclassified failures before isolating (ms). */
  unknownRetryWindowMs: number;
  /** Longest wait between two heartbeats while backing off. */
  heartbeatIntervalMs: number;
}

export interface BatchResult {
  stored: number;
  duplicates: number;
  deadLettered: number;
  /** Last offset resolved (stored, duplicate or dead-lettered), if any. */
  resolvedOffset: string | undefined;
  /** True when the handler stopped early (consumer stopping or partition lost). */
  abandoned: boolean;
}

interface Entry {
  doc: StoredEvent;
  message: KafkaMessage;
}

interface WriteOutcome {
  inserted: number;
  duplicates: number;
  deadLetters: DeadLetter[];
}

const NOTHING_WRITTEN: WriteOutcome = { inserted: 0, duplicates: 0, deadLetters: [] };

function sum(a: WriteOutcome, b: WriteOutcome): WriteOutcome {
  return {
    inserted: a.inserted + b.inserted,
    duplicates: a.duplicates + b.duplicates,
    deadLetters: [...a.deadLetters, ...b.deadLetters],
  };
}

/**
 * kafkajs `eachBatch` handler (run with `eachBatchAutoResolve: false`). Per micro-batch: decode,
 * one bulk insert, dead letters, checkpoint, and only then resolve the last offset, heartbeat and
 * commit if due. A store that cannot serve is retried with backoff and heartbeats until it serves
 * or the consumer stops or loses the partition; then the handler returns without resolving past
 * the last stored event, so nothing is skipped. Only that may hold a partition: a refusal, or an
 * unclassified failure past its bounded retries, splits the batch and dead-letters the culprit.
 */
export async function handleBatch(payload: EachBatchPayload, deps: BatchHandlerDeps): Promise<BatchResult> {
  const { batch } = payload;
  const { topic, partition } = batch;
  const result: BatchResult = {
    stored: 0,
    duplicates: 0,
    deadLettered: 0,
    resolvedOffset: undefined,
    abandoned: false,
  };
  const mustStop = () => !payload.isRunning() || payload.isStale();

  const waitWithHeartbeats = async (ms: number) => {
    for (let remaining = ms; remaining > 0; remaining -= deps.heartbeatIntervalMs) {
      if (mustStop()) throw new BatchAbandonedError('consumer stopping or partition revoked');
      await deps.sleep(Math.min(remaining, deps.heartbeatIntervalMs));
      await payload.heartbeat();
    }
  };

  /**
   * Retries `attempt` with backoff. Unclassified store failures are retried only within `bound`
   * (then rethrown for isolation); everything else retriable until it succeeds. A partition that
   * stalls says so once (log line, metric), and again when it moves on.
   */
  const retrying = async <T>(
    operation: string,
    attempt: () => Promise<T>,
    bound?: RetryBound,
  ): Promise<T> => {
    let stalled = false;
    try {
      for (let failures = 0; ; ) {
        if (mustStop()) throw new BatchAbandonedError('consumer stopping or partition revoked');
        try {
          return await attempt();
        } catch (error) {
          // Only a failure the store or sink declared permanent escapes; anything else may pass.
          if (error instanceof SplitstreamError && !error.isRetriable) throw error;
          failures += 1;
          if (error instanceof StoreUnknownError && bound && bound.exhausted(failures)) throw error;
          const delayMs = deps.backoff(failures);
          deps.observer?.retry?.(operation, error);
          if (!stalled) {
            stalled = true;
            const reason = stallReason(error);
            deps.observer?.stalled?.(topic, partition, reason);
            deps.log.warn({ err: error, topic, partition, operation, reason }, 'partition stalled, retrying');
          }
          await waitWithHeartbeats(delayMs);
        }
      }
    } finally {
      if (stalled) {
        deps.observer?.resumed?.(topic, partition);
        deps.log.info({ topic, partition, operation }, 'partition no longer stalled');
      }
    }
  };

  /**
   * One bulk call; a batch-level refusal, or an unclassified failure past its bound, is narrowed
   * down by halves to the events at fault, which are dead-lettered with the store's message.
   */
  const writeIsolating = async (entries: Entry[], bound: RetryBound): Promise<WriteOutcome> => {
    if (entries.length === 0) return NOTHING_WRITTEN;
    try {
      const outcome = await retrying(
        'store events',
        () => deps.store.insertEvents(entries.map((e) => e.doc)),
        bound,
      );
      const deadLetters = outcome.rejected.flatMap((rejection) => {
        const entry = entries[rejection.index];
        return entry ? [rejectedLetter(entry, `${rejection.message}${codeSuffix(rejection.code)}`)] : [];
      });
      return { inserted: outcome.inserted, duplicates: outcome.duplicates, deadLetters };
    } catch (error) {
      if (!(error instanceof StoreRejectedError || error instanceof StoreUnknownError)) throw error;
      const [only] = entries;
      if (entries.length === 1 && only) {
        return {
          inserted: 0,
          duplicates: 0,
          deadLetters: [
            rejectedLetter(
              only,
              error.message + codeSuffix(error instanceof StoreRejectedError ? error.code : undefined),
            ),
          ],
        };
      }
      const middle = Math.ceil(entries.length / 2);
      return sum(
        await writeIsolating(entries.slice(0, middle), bound),
        await writeIsolating(entries.slice(middle), bound),
      );
    }
  };

  /**
   * Known duplicates (acknowledged before) are counted, not written. A second copy inside the
   * micro-batch goes in a follow-up call: it is a duplicate, unless the store refused the first.
   */
  const writeMicroBatch = async (entries: Entry[]): Promise<WriteOutcome> => {
    const firsts: Entry[] = [];
    const repeats: Entry[] = [];
    const seen = new Set<string>();
    let known = 0;
    for (const entry of entries) {
      if (deps.recent?.has(entry.doc._id)) known += 1;
      else if (seen.has(entry.doc._id)) repeats.push(entry);
      else {
        seen.add(entry.doc._id);
        firsts.push(entry);
      }
    }
    const bound = new RetryBound(
      deps.unknownRetries,
      deps.clock().getTime() + deps.unknownRetryWindowMs,
      deps.clock,
    );
    let outcome = sum({ ...NOTHING_WRITTEN, duplicates: known }, await writeIsolating(firsts, bound));
    if (repeats.length > 0) outcome = sum(outcome, await writeIsolating(repeats, bound));
    if (deps.recent) {
      const refused = new Set(outcome.deadLetters.map((letter) => letter.message.offset));
      for (const entry of [...firsts, ...repeats]) {
        if (!refused.has(entry.message.offset)) deps.recent.add(entry.doc._id);
      }
    }
    return outcome;
  };

  const rejectedLetter = (entry: Entry, detail: string): DeadLetter => ({
    topic,
    partition,
    message: entry.message,
    reason: deadLetterReason(DEAD_LETTER_REASONS.rejectedByStore, detail),
    tenant: entry.doc.tenant,
    id: entry.doc.id,
    source: entry.doc.source,
    type: entry.doc.type,
  });

  const report = (next: KafkaMessage | undefined, last: KafkaMessage | undefined) => {
    const nextOffset = next
      ? next.offset
      : last
        ? (BigInt(last.offset) + 1n).toString()
        : batch.highWatermark;
    const caughtUp = BigInt(nextOffset) >= BigInt(batch.highWatermark);
    // Past the fetched batch the next event's time is unknown; the last stored one bounds its age.
    const oldest = caughtUp ? undefined : (next ?? last);
    deps.observer?.progress?.({
      topic,
      partition,
      highWatermark: batch.highWatermark,
      nextOffset,
      oldestUnstoredMs: oldest ? Number(oldest.timestamp) : undefined,
    });
  };

  try {
    for (let start = 0; start < batch.messages.length; start += deps.microBatchSize) {
      if (mustStop()) throw new BatchAbandonedError('consumer stopping or partition revoked');
      const messages = batch.messages.slice(start, start + deps.microBatchSize);
      const last = messages[messages.length - 1];
      if (!last) break;
      report(messages[0], undefined);
      const started = performance.now();

      const now = deps.clock();
      const entries: Entry[] = [];
      const deadLetters: DeadLetter[] = [];
      for (const message of messages) {
        const decoded = decodeMessage(message, { topic, partition, maxEventBytes: deps.maxEventBytes, now });
        if (decoded.ok) entries.push({ doc: decoded.doc, message });
        else deadLetters.push(decoded.deadLetter);
      }

      const written = await writeMicroBatch(entries);
      deadLetters.push(...written.deadLetters);
      if (deadLetters.length > 0) {
        for (const letter of deadLetters) {
          deps.log.warn(
            {
              topic,
              partition,
              offset: letter.message.offset,
              tenant: letter.tenant,
              id: letter.id,
              reason: letter.reason,
            },
            'event dead-lettered',
          );
        }
        await retrying('dead-letter', () => deps.deadLetters.send(deadLetters));
      }
      await retrying('checkpoint', () =>
        deps.store.saveCheckpoint({
          _id: checkpointId(topic, partition),
          topic,
          partition,
          offset: last.offset,
          updatedAt: deps.clock(),
        }),
      );

      // Everything up to `last` is stored, a known duplicate, or dead-lettered: safe to commit past.
      payload.resolveOffset(last.offset);
      result.resolvedOffset = last.offset;
      result.stored += written.inserted;
      result.duplicates += written.duplicates;
      result.deadLettered += deadLetters.length;
      deps.observer?.stored?.(topic, written.inserted);
      deps.observer?.duplicates?.(topic, written.duplicates);
      for (const letter of deadLetters) deps.observer?.deadLettered?.(reasonCode(letter.reason), 1);
      deps.observer?.microBatch?.(messages.length, (performance.now() - started) / 1000);
      report(batch.messages[start + messages.length], last);

      await payload.heartbeat();
      await payload.commitOffsetsIfNecessary();
    }
  } catch (error) {
    if (!(error instanceof BatchAbandonedError)) throw error;
    result.abandoned = true;
    deps.log.info(
      { topic, partition, resolvedOffset: result.resolvedOffset },
      'batch abandoned before completion',
    );
  }
  return result;
}

/** How long unclassified failures of one micro-batch are retried: per call, and all calls together. */
class RetryBound {
  constructor(
    private readonly retriesPerCall: number,
    private readonly deadlineMs: number,
    private readonly clock: () => Date,
  ) {}

  exhausted(failures: number): boolean {
    return failures > this.retriesPerCall || this.clock().getTime() >= this.deadlineMs;
  }
}

function codeSuffix(code: number | undefined): string {
  return code === undefined ? '' : ` (store code ${code})`;
}

function reasonCode(reason: string): string {
  const colon = reason.indexOf(':');
  return colon > 0 ? reason.slice(0, colon) : reason;
}
