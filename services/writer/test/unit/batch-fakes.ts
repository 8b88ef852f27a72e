/** Shared fakes for the batch handler's unit tests: an in-memory store and sink, and the deps. */
import type { Checkpoint, StoredEvent } from '@splitstream/shared';
import type { BatchResult } from '../../src/domain/batch-handler';
import type { DeadLetter } from '../../src/domain/decode';
import type { BatchHandlerDeps, EventStore, InsertOutcome } from '../../src/domain/ports';
import { StoreRejectedError } from '../../src/errors';
import { cloudEvent, eventMessage, quietLog } from '../support';

export const TENANT = 'tenant-a';
export const NOW = new Date('2026-11-26T10:00:05.000Z');

/** An in-memory store with the unique key of the real one, and scripted failures. */
export class FakeStore implements EventStore {
  readonly docs = new Map<string, StoredEvent>();
  readonly checkpoints: Checkpoint[] = [];
  readonly insertCalls: number[] = [];
  /** Thrown, one per call, before anything is written. */
  failures: Error[] = [];
  checkpointFailures: Error[] = [];
  /** Event ids the store refuses per document (like a `$` field name). */
  refuseIds = new Set<string>();
  /** Event ids that make the whole call fail permanently (like a document over the size limit). */
  poisonCallIds = new Set<string>();
  events: string[] = [];

  async insertEvents(docs: StoredEvent[]): Promise<InsertOutcome> {
    this.insertCalls.push(docs.length);
    const failure = this.failures.shift();
    if (failure) throw failure;
    if (docs.some((d) => this.poisonCallIds.has(d.id))) {
      throw new StoreRejectedError('Document is larger than the maximum size');
    }
    const outcome: InsertOutcome = { inserted: 0, duplicates: 0, rejected: [] };
    docs.forEach((doc, index) => {
      if (this.refuseIds.has(doc.id)) {
        outcome.rejected.push({ index, code: 2, message: 'invalid key: "$x"' });
      } else if (this.docs.has(doc._id)) outcome.duplicates += 1;
      else {
        this.docs.set(doc._id, doc);
        outcome.inserted += 1;
      }
    });
    this.events.push(`insert:${docs.length}`);
    return outcome;
  }

  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const failure = this.checkpointFailures.shift();
    if (failure) throw failure;
    this.checkpoints.push(checkpoint);
    this.events.push(`checkpoint:${checkpoint.offset}`);
  }
}

export class FakeSink {
  readonly letters: DeadLetter[] = [];
  failures: Error[] = [];
  async send(letters: DeadLetter[]) {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.letters.push(...letters);
  }
}

export function setup(overrides: Partial<BatchHandlerDeps> = {}) {
  const store = new FakeStore();
  const sink = new FakeSink();
  const sleeps: number[] = [];
  const deps: BatchHandlerDeps = {
    store,
    deadLetters: sink,
    clock: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    backoff: (attempt) => 100 * 2 ** (attempt - 1),
    log: quietLog,
    microBatchSize: 1_000,
    maxEventBytes: 4_096,
    unknownRetries: 2,
    unknownRetryWindowMs: 60_000,
    heartbeatIntervalMs: 150,
    ...overrides,
  };
  return { store, sink, sleeps, deps };
}

export const good = (offset: number, id = `e${offset}`, source?: string) =>
  eventMessage(offset, TENANT, cloudEvent(id, source ? { source } : {}));
/** The whole result of a batch: nothing stored, resolved or abandoned, but for `fields`. */
export const batchResult = (fields: Partial<BatchResult>): BatchResult => ({
  stored: 0,
  duplicates: 0,
  deadLettered: 0,
  resolvedOffset: undefined,
  abandoned: false,
  ...fields,
});
