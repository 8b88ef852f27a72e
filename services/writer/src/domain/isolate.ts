import { DEAD_LETTER_REASONS, deadLetterReason, type StoredEvent } from '@splitstream/shared';
import type { KafkaMessage } from 'kafkajs';
import { StoreRejectedError, StoreUnknownError } from '../errors';
import type { DeadLetter } from './decode';
import type { BatchScope } from './ports';
import { RetryBound, retrying } from './retry';

/** A decoded event and the message it came in. */
export interface Entry {
  doc: StoredEvent;
  message: KafkaMessage;
}

export interface WriteOutcome {
  /** Written by this call. */
  inserted: Entry[];
  /** Found stored already (by an earlier delivery of the same message, or by another message). */
  duplicates: Entry[];
  deadLetters: DeadLetter[];
}

const NOTHING_WRITTEN: WriteOutcome = { inserted: [], duplicates: [], deadLetters: [] };

function sum(a: WriteOutcome, b: WriteOutcome): WriteOutcome {
  return {
    inserted: [...a.inserted, ...b.inserted],
    duplicates: [...a.duplicates, ...b.duplicates],
    deadLetters: [...a.deadLetters, ...b.deadLetters],
  };
}

/**
 * Known duplicates (acknowledged before) are counted, not written. A second copy inside the
 * micro-batch goes in a follow-up call: it is a duplicate, unless the store refused the first.
 */
export async function writeMicroBatch(scope: BatchScope, entries: Entry[]): Promise<WriteOutcome> {
  const { deps } = scope;
  const firsts: Entry[] = [];
  const repeats: Entry[] = [];
  const seen = new Set<string>();
  const known: Entry[] = [];
  for (const entry of entries) {
    if (deps.recent?.has(entry.doc._id)) known.push(entry);
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
  let outcome = sum({ ...NOTHING_WRITTEN, duplicates: known }, await writeIsolating(scope, firsts, bound));
  if (repeats.length > 0) outcome = sum(outcome, await writeIsolating(scope, repeats, bound));
  if (deps.recent) {
    const refused = new Set(outcome.deadLetters.map((letter) => letter.message.offset));
    for (const entry of [...firsts, ...repeats]) {
      if (!refused.has(entry.message.offset)) deps.recent.add(entry.doc._id);
    }
  }
  return outcome;
}

/**
 * One bulk call; a batch-level refusal, or an unclassified failure past its bound, is narrowed
 * down by halves to the events at fault, which are dead-lettered with the store's message.
 */
async function writeIsolating(scope: BatchScope, entries: Entry[], bound: RetryBound): Promise<WriteOutcome> {
  if (entries.length === 0) return NOTHING_WRITTEN;
  try {
    const outcome = await retrying(
      scope,
      'store events',
      () => scope.deps.store.insertEvents(entries.map((e) => e.doc)),
      bound,
    );
    const duplicates = new Set(outcome.duplicateIndexes);
    const rejected = new Map(outcome.rejected.map((rejection) => [rejection.index, rejection]));
    const written: WriteOutcome = { inserted: [], duplicates: [], deadLetters: [] };
    entries.forEach((entry, index) => {
      const rejection = rejected.get(index);
      if (rejection) {
        written.deadLetters.push(
          rejectedLetter(scope, entry, `${rejection.message}${codeSuffix(rejection.code)}`),
        );
      } else if (duplicates.has(index)) written.duplicates.push(entry);
      else written.inserted.push(entry);
    });
    return written;
  } catch (error) {
    if (!(error instanceof StoreRejectedError || error instanceof StoreUnknownError)) throw error;
    const [only] = entries;
    if (entries.length === 1 && only) {
      const code = error instanceof StoreRejectedError ? error.code : undefined;
      return {
        ...NOTHING_WRITTEN,
        deadLetters: [rejectedLetter(scope, only, error.message + codeSuffix(code))],
      };
    }
    const middle = Math.ceil(entries.length / 2);
    return sum(
      await writeIsolating(scope, entries.slice(0, middle), bound),
      await writeIsolating(scope, entries.slice(middle), bound),
    );
  }
}

function rejectedLetter({ topic, partition }: BatchScope, entry: Entry, detail: string): DeadLetter {
  return {
    topic,
    partition,
    message: entry.message,
    reason: deadLetterReason(DEAD_LETTER_REASONS.rejectedByStore, detail),
    tenant: entry.doc.tenant,
    id: entry.doc.id,
    source: entry.doc.source,
    type: entry.doc.type,
  };
}

function codeSuffix(code: number | undefined): string {
  return code === undefined ? '' : ` (store code ${code})`;
}
