/** Shared fakes for the batch handler's unit tests: an in-memory store and sink, and the deps. */
import {
  type CellCounts,
  type Checkpoint,
  type RollupGrain,
  type RollupLedger,
  rollupWrites,
  type StoredEvent,
} from '@splitstream/shared';
import type { BatchResult } from '../../src/domain/batch-handler';
import type { DeadLetter } from '../../src/domain/decode';
import type {
  BatchHandlerDeps,
  EventStore,
  InsertOutcome,
  RollupStore,
  StoredPosition,
} from '../../src/domain/ports';
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
    const outcome: InsertOutcome = { inserted: 0, duplicateIndexes: [], rejected: [] };
    docs.forEach((doc, index) => {
      if (this.refuseIds.has(doc.id)) {
        outcome.rejected.push({ index, code: 2, message: 'invalid key: "$x"' });
      } else if (this.docs.has(doc._id)) outcome.duplicateIndexes.push(index);
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

/** In-memory rollups with the real store's rules: counts added once per (block, through), ledgers never back. */
export class FakeRollups implements RollupStore {
  readonly ledgers = new Map<string, RollupLedger>();
  /** `${rollup id}\n${minute}` → count */
  readonly cells = new Map<string, number>();
  /** `${rollup id}\n${marker}` → through */
  readonly applied = new Map<string, number>();
  failures: Error[] = [];

  constructor(private readonly store: FakeStore) {}

  async ledger(blockKey: string) {
    return this.ledgers.get(blockKey) ?? null;
  }

  async storedPositions(ids: string[]) {
    const positions = new Map<string, StoredPosition>();
    for (const id of ids) {
      const doc = this.store.docs.get(id);
      if (doc) positions.set(id, { topic: doc.topic, partition: doc.partition, offset: doc.offset });
    }
    return positions;
  }

  async applyCells(marker: string, through: number, cells: CellCounts) {
    const failure = this.failures.shift();
    if (failure) throw failure;
    for (const [key, count] of cells) {
      const [rollup, minute] = JSON.parse(key) as [string, string];
      if ((this.applied.get(`${rollup}\n${marker}`) ?? -1) >= through) continue;
      this.cells.set(`${rollup}\n${minute}`, (this.cells.get(`${rollup}\n${minute}`) ?? 0) + count);
    }
    for (const key of cells.keys()) {
      const [rollup] = JSON.parse(key) as [string];
      this.applied.set(
        `${rollup}\n${marker}`,
        Math.max(this.applied.get(`${rollup}\n${marker}`) ?? -1, through),
      );
    }
  }

  async saveLedger(ledger: RollupLedger) {
    const previous = this.ledgers.get(ledger._id);
    if (!previous || previous.through <= ledger.through) this.ledgers.set(ledger._id, ledger);
  }

  /** Total counted for a tenant and dimension at `grain`, over every cell. */
  total(tenant: string, by: 'type' | 'source' | 'subject', grain: RollupGrain = 'minute'): number {
    let sum = 0;
    for (const [key, count] of this.cells) {
      const [rollup] = key.split('\n');
      const [t, b, g] = JSON.parse(rollup ?? '[]') as [string, string, RollupGrain];
      if (t === tenant && b === by && g === grain) sum += count;
    }
    return sum;
  }
}

/**
 * The cells of the first half of the rollup documents they touch: what a writer killed halfway
 * through its counts has added (one document's update is atomic, so a kill falls between documents).
 */
export function firstHalfOfDocuments(cells: CellCounts): CellCounts {
  const docs = [...new Set([...cells.keys()].map((key) => (JSON.parse(key) as [string])[0]))];
  const kept = new Set(docs.slice(0, Math.ceil(docs.length / 2)));
  return new Map([...cells].filter(([key]) => kept.has((JSON.parse(key) as [string])[0])));
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
  const rollups = new FakeRollups(store);
  const sink = new FakeSink();
  const sleeps: number[] = [];
  const deps: BatchHandlerDeps = {
    store,
    rollups,
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
  return { store, rollups, sink, sleeps, deps };
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
