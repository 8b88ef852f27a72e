import { checkpointId } from '@splitstream/shared';
import type { EachBatchPayload, KafkaMessage } from 'kafkajs';
import { BatchAbandonedError } from '../errors';
import { countOnce } from './count-once';
import { type DeadLetter, decodeMessage } from './decode';
import { type Entry, writeMicroBatch } from './isolate';
import type { BatchHandlerDeps, BatchScope } from './ports';
import { retrying, throwIfStopping } from './retry';

export interface BatchResult {
  stored: number;
  duplicates: number;
  deadLettered: number;
  /** Last offset resolved (stored, duplicate or dead-lettered), if any. */
  resolvedOffset: string | undefined;
  /** True when the handler stopped early (consumer stopping or partition lost). */
  abandoned: boolean;
}

/**
 * kafkajs `eachBatch` handler (run with `eachBatchAutoResolve: false`). Per micro-batch: decode,
 * one bulk insert, dead letters, rollup counts, checkpoint, and only then resolve the last offset, heartbeat and
 * commit if due. A store that cannot serve is retried with backoff and heartbeats until it serves
 * or the consumer stops or loses the partition; then the handler returns without resolving past
 * the last stored event, so nothing is skipped. Only that may hold a partition: a refusal, or an
 * unclassified failure past its bounded retries, splits the batch and dead-letters the culprit.
 */
export async function handleBatch(payload: EachBatchPayload, deps: BatchHandlerDeps): Promise<BatchResult> {
  const { batch } = payload;
  const { topic, partition } = batch;
  const scope: BatchScope = { topic, partition, payload, deps };
  const result: BatchResult = {
    stored: 0,
    duplicates: 0,
    deadLettered: 0,
    resolvedOffset: undefined,
    abandoned: false,
  };

  try {
    for (let start = 0; start < batch.messages.length; start += deps.microBatchSize) {
      throwIfStopping(scope);
      const messages = batch.messages.slice(start, start + deps.microBatchSize);
      const last = messages[messages.length - 1];
      if (!last) break;
      reportProgress(payload, deps, messages[0], undefined);
      const started = performance.now();

      const now = deps.clock();
      const entries: Entry[] = [];
      const deadLetters: DeadLetter[] = [];
      for (const message of messages) {
        const decoded = decodeMessage(message, { topic, partition, maxEventBytes: deps.maxEventBytes, now });
        if (decoded.ok) entries.push({ doc: decoded.doc, message });
        else deadLetters.push(decoded.deadLetter);
      }

      const written = await writeMicroBatch(scope, entries);
      deadLetters.push(...written.deadLetters);
      if (deadLetters.length > 0) {
        for (const letter of deadLetters) logDeadLetter(scope, letter);
        await retrying(scope, 'dead-letter', () => deps.deadLetters.send(deadLetters));
      }
      await countOnce(scope, messages, written);
      await retrying(scope, 'checkpoint', () =>
        deps.store.saveCheckpoint({
          _id: checkpointId(topic, partition),
          topic,
          partition,
          offset: last.offset,
          updatedAt: deps.clock(),
          // Later offsets were produced after `last` (Kafka timestamps follow offsets, within clock skew).
          appliedAsOf: new Date(Number(last.timestamp)),
        }),
      );

      // Everything up to `last` is stored, a known duplicate, or dead-lettered: safe to commit past.
      payload.resolveOffset(last.offset);
      result.resolvedOffset = last.offset;
      result.stored += written.inserted.length;
      result.duplicates += written.duplicates.length;
      result.deadLettered += deadLetters.length;
      deps.observer?.stored?.(topic, written.inserted.length);
      deps.observer?.duplicates?.(topic, written.duplicates.length);
      for (const letter of deadLetters) deps.observer?.deadLettered?.(reasonCode(letter.reason), 1);
      deps.observer?.microBatch?.(messages.length, (performance.now() - started) / 1000);
      const storedAt = deps.clock().getTime();
      deps.observer?.arrivalToStored?.(
        [...written.inserted, ...written.duplicates].map(
          (entry) => (storedAt - entry.doc.receivedAt.getTime()) / 1000,
        ),
      );
      reportProgress(payload, deps, batch.messages[start + messages.length], last);

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

/** Where the partition stands: `next` is the first message not stored yet, `last` the last stored. */
function reportProgress(
  { batch }: EachBatchPayload,
  deps: BatchHandlerDeps,
  next: KafkaMessage | undefined,
  last: KafkaMessage | undefined,
): void {
  const nextOffset = next ? next.offset : last ? (BigInt(last.offset) + 1n).toString() : batch.highWatermark;
  const caughtUp = BigInt(nextOffset) >= BigInt(batch.highWatermark);
  // Past the fetched batch the next event's time is unknown; the last stored one bounds its age.
  const oldest = caughtUp ? undefined : (next ?? last);
  deps.observer?.progress?.({
    topic: batch.topic,
    partition: batch.partition,
    highWatermark: batch.highWatermark,
    nextOffset,
    oldestUnstoredMs: oldest ? Number(oldest.timestamp) : undefined,
  });
}

function logDeadLetter({ topic, partition, deps }: BatchScope, letter: DeadLetter): void {
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

function reasonCode(reason: string): string {
  const colon = reason.indexOf(':');
  return colon > 0 ? reason.slice(0, colon) : reason;
}
