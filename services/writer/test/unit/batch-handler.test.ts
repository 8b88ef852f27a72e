import {
  type Checkpoint,
  DEAD_LETTER_REASONS,
  identityKey,
  type StoredEvent,
  toStoredEvent,
} from '@splitstream/shared';
import {
  type BatchHandlerDeps,
  type EventStore,
  handleBatch,
  type InsertOutcome,
} from '../../src/domain/batch-handler';
import type { DeadLetter } from '../../src/domain/decode';
import { RecentIds } from '../../src/domain/recent-ids';
import {
  DeadLetterUnavailableError,
  StoreRejectedError,
  StoreUnavailableError,
  StoreUnknownError,
} from '../../src/errors';
import { batchPayload, cloudEvent, eventMessage, quietLog, RECEIVED_AT, rawMessage } from '../support';

const TENANT = 'tenant-a';
const NOW = new Date('2026-11-26T10:00:05.000Z');

/** An in-memory store with the unique key of the real one, and scripted failures. */
class FakeStore implements EventStore {
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

class FakeSink {
  readonly letters: DeadLetter[] = [];
  failures: Error[] = [];
  async send(letters: DeadLetter[]) {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.letters.push(...letters);
  }
}

function setup(overrides: Partial<BatchHandlerDeps> = {}) {
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

const good = (offset: number, id = `e${offset}`, source?: string) =>
  eventMessage(offset, TENANT, cloudEvent(id, source ? { source } : {}));

describe('handleBatch', () => {
  it('stores each event as toStoredEvent builds it, then checkpoints, resolves and commits', async () => {
    const { store, deps } = setup();
    const probe = batchPayload([good(0), good(1), good(2)], { partition: 4 });

    const result = await handleBatch(probe.payload, deps);

    expect(result).toEqual({
      stored: 3,
      duplicates: 0,
      deadLettered: 0,
      resolvedOffset: '2',
      abandoned: false,
    });
    expect(store.insertCalls).toEqual([3]);
    expect(store.docs.get(identityKey(TENANT, '/tests/writer', 'e1'))).toEqual(
      toStoredEvent({
        tenant: TENANT,
        event: { ...cloudEvent('e1'), time: '2026-11-26T09:59:59.000Z' },
        receivedAt: RECEIVED_AT,
        topic: 'events',
        partition: 4,
        offset: '1',
        storedAt: NOW,
      }),
    );
    expect(store.checkpoints).toEqual([
      { _id: 'events/4', topic: 'events', partition: 4, offset: '2', updatedAt: NOW },
    ]);
    expect(probe.calls).toEqual(['resolve:2', 'heartbeat', 'commit']);
  });

  it('writes one bulk call per micro-batch and resolves after each', async () => {
    const { store, deps } = setup({ microBatchSize: 4 });
    const probe = batchPayload(Array.from({ length: 10 }, (_, i) => good(100 + i)));

    await handleBatch(probe.payload, deps);

    expect(store.insertCalls).toEqual([4, 4, 2]);
    expect(store.checkpoints.map((c) => c.offset)).toEqual(['103', '107', '109']);
    expect(probe.calls.filter((c) => c.startsWith('resolve'))).toEqual([
      'resolve:103',
      'resolve:107',
      'resolve:109',
    ]);
    expect(probe.calls.filter((c) => c === 'heartbeat')).toHaveLength(3);
  });

  it('counts duplicates (same tenant, source and id) as no-ops and keeps the same id under another source', async () => {
    const { store, deps } = setup();
    await handleBatch(batchPayload([good(0, 'x')]).payload, deps);
    const probe = batchPayload([good(1, 'x'), good(2, 'y'), good(3, 'y'), good(4, 'x', '/other/source')]);

    const result = await handleBatch(probe.payload, deps);

    expect(result).toMatchObject({ stored: 2, duplicates: 2, deadLettered: 0, resolvedOffset: '4' });
    expect([...store.docs.values()].map((d) => `${d.source}|${d.id}`).sort()).toEqual([
      '/other/source|x',
      '/tests/writer|x',
      '/tests/writer|y',
    ]);
  });

  it('does not send known duplicates again and sends repeats inside a micro-batch in a follow-up call', async () => {
    const { store, deps } = setup({ recent: new RecentIds(100) });
    await handleBatch(batchPayload([good(0, 'x')]).payload, deps);
    const probe = batchPayload([good(1, 'x'), good(2, 'y'), good(3, 'z'), good(4, 'y')]);

    const result = await handleBatch(probe.payload, deps);

    expect(result).toMatchObject({ stored: 2, duplicates: 2, resolvedOffset: '4' });
    // x was acknowledged before: not sent; the second y goes alone, after the first one.
    expect(store.insertCalls).toEqual([1, 2, 1]);
  });

  it('stores a repeat inside the micro-batch when the store refused the first copy', async () => {
    const { store, sink, deps } = setup({ recent: new RecentIds(100) });
    const refused = eventMessage(0, TENANT, cloudEvent('r', { data: { $bad: 1 } }));
    let calls = 0;
    const insert = store.insertEvents.bind(store);
    store.insertEvents = async (docs) => {
      calls += 1;
      if (calls === 1)
        return { inserted: 0, duplicates: 0, rejected: [{ index: 0, code: 2, message: 'invalid key' }] };
      return insert(docs);
    };

    const result = await handleBatch(batchPayload([refused, good(1, 'r')]).payload, deps);

    expect(result).toMatchObject({ stored: 1, duplicates: 0, deadLettered: 1 });
    expect(sink.letters.map((l) => l.message.offset)).toEqual(['0']);
    expect(deps.recent?.has(identityKey(TENANT, '/tests/writer', 'r'))).toBe(true);
  });

  it('dead-letters poison messages with their reason and stores the good events around them', async () => {
    const { store, sink, deps } = setup();
    const noTenant = eventMessage(3, TENANT, cloudEvent('no-tenant'));
    delete noTenant.headers?.['splitstream-tenant'];
    const probe = batchPayload([
      good(0),
      rawMessage(1, { value: '{"id": nope' }),
      rawMessage(2, { value: JSON.stringify({ id: 'bad-1', specversion: '0.3', source: '/s', type: 't' }) }),
      noTenant,
      rawMessage(4, { value: null }),
      rawMessage(5, { value: 'x'.repeat(5_000) }),
      good(6),
    ]);

    const result = await handleBatch(probe.payload, deps);

    expect(result).toMatchObject({ stored: 2, deadLettered: 5, resolvedOffset: '6', abandoned: false });
    expect([...store.docs.values()].map((d) => d.offset)).toEqual(['0', '6']);
    const byOffset = Object.fromEntries(sink.letters.map((l) => [l.message.offset, l]));
    expect(byOffset['1']?.reason).toMatch(
      new RegExp(`^${DEAD_LETTER_REASONS.undecodable}: value is not JSON`),
    );
    expect(byOffset['2']?.reason).toMatch(new RegExp(`^${DEAD_LETTER_REASONS.invalidEvent}: .*/specversion`));
    expect(byOffset['2']).toMatchObject({ id: 'bad-1', source: '/s', type: 't' });
    expect(byOffset['2']).not.toHaveProperty('tenant');
    expect(byOffset['3']?.reason).toBe(
      `${DEAD_LETTER_REASONS.missingTenant}: header splitstream-tenant is absent`,
    );
    expect(byOffset['3']).toMatchObject({ id: 'no-tenant', topic: 'events', partition: 0 });
    expect(byOffset['4']?.reason).toBe(`${DEAD_LETTER_REASONS.undecodable}: message has no value`);
    expect(byOffset['5']?.reason).toMatch(
      new RegExp(`^${DEAD_LETTER_REASONS.tooLarge}: value is 5000 bytes`),
    );
    // The dead letters are sent before the offset is resolved.
    expect(store.events).toEqual(['insert:2', 'checkpoint:6']);
    expect(probe.calls[0]).toBe('resolve:6');
  });

  it('dead-letters an event the store refuses per document, with the store reason', async () => {
    const { store, sink, deps } = setup();
    store.refuseIds.add('e1');

    const result = await handleBatch(batchPayload([good(0), good(1), good(2)]).payload, deps);

    expect(result).toMatchObject({ stored: 2, deadLettered: 1, resolvedOffset: '2' });
    expect(sink.letters).toHaveLength(1);
    expect(sink.letters[0]).toMatchObject({
      id: 'e1',
      tenant: TENANT,
      source: '/tests/writer',
      type: 'com.example.test',
    });
    expect(sink.letters[0]?.reason).toBe(
      `${DEAD_LETTER_REASONS.rejectedByStore}: invalid key: "$x" (store code 2)`,
    );
  });

  it('narrows a call the store refuses as a whole down to the event at fault', async () => {
    const { store, sink, deps } = setup();
    store.poisonCallIds.add('e5');

    const result = await handleBatch(
      batchPayload(Array.from({ length: 8 }, (_, i) => good(i))).payload,
      deps,
    );

    expect(result).toMatchObject({ stored: 7, deadLettered: 1, resolvedOffset: '7' });
    expect(sink.letters.map((l) => l.id)).toEqual(['e5']);
    expect(sink.letters[0]?.reason).toMatch(/^rejected-by-store: Document is larger/);
    // Halves only where the fault is: 8 → 0-3 ✓, 4-7 → 4-5 → 4 ✓, 5 ✗; 6-7 ✓.
    expect(store.insertCalls).toEqual([8, 4, 4, 2, 1, 1, 2]);
  });

  it('retries a retriable store failure with backoff and heartbeats, resolving only after the write', async () => {
    const { store, sleeps, deps } = setup();
    const unavailable = () => new StoreUnavailableError('store unreachable: connection refused');
    store.failures = [unavailable(), unavailable(), new Error('socket hang up')];
    const retries: string[] = [];
    deps.observer = { retry: (operation) => retries.push(operation) };
    const probe = batchPayload([good(0), good(1)]);

    const result = await handleBatch(probe.payload, deps);

    expect(result).toMatchObject({ stored: 2, resolvedOffset: '1', abandoned: false });
    expect(store.insertCalls).toEqual([2, 2, 2, 2]);
    expect(retries).toEqual(['store events', 'store events', 'store events']);
    // Backoff 100, 200, 400 ms, slept in slices no longer than the heartbeat interval.
    expect(sleeps).toEqual([100, 150, 50, 150, 150, 100]);
    const firstResolve = probe.calls.indexOf('resolve:1');
    expect(probe.calls.slice(0, firstResolve)).toEqual(Array(6).fill('heartbeat'));
  });

  it('retries an unclassified store failure a bounded number of times, then isolates the culprit', async () => {
    const { store, sink, deps } = setup();
    // Like the local store's answer to U+0000: the whole call fails, naming no document.
    const original = store.insertEvents.bind(store);
    store.insertEvents = async (docs) => {
      store.insertCalls.push(docs.length);
      if (docs.some((d) => d.id === 'e2')) throw new StoreUnknownError('store write failed: SQLSTATE 22P05');
      store.insertCalls.pop();
      return original(docs);
    };
    const stalls: string[] = [];
    deps.observer = {
      stalled: (_topic, partition, reason) => stalls.push(`stalled ${partition} ${reason}`),
      resumed: (_topic, partition) => stalls.push(`resumed ${partition}`),
    };
    const probe = batchPayload([good(0), good(1), good(2), good(3)], { partition: 1 });

    const result = await handleBatch(probe.payload, deps);

    expect(result).toMatchObject({ stored: 3, deadLettered: 1, resolvedOffset: '3', abandoned: false });
    expect(sink.letters.map((l) => l.id)).toEqual(['e2']);
    expect(sink.letters[0]?.reason).toBe('rejected-by-store: store write failed: SQLSTATE 22P05');
    // Whole batch: 1 try + 2 retries; then halves (0-1 ✓, 2-3 ✗ 3 tries), then 2 ✗ (3 tries), 3 ✓.
    expect(store.insertCalls).toEqual([4, 4, 4, 2, 2, 2, 2, 1, 1, 1, 1]);
    expect(stalls).toEqual([
      'stalled 1 store-unknown',
      'resumed 1',
      'stalled 1 store-unknown',
      'resumed 1',
      'stalled 1 store-unknown',
      'resumed 1',
    ]);
    expect(probe.calls.filter((c) => c.startsWith('resolve'))).toEqual(['resolve:3']);
  });

  it('stops retrying unclassified failures once the retry window has passed', async () => {
    let now = NOW.getTime();
    const { store, sink, deps } = setup({
      unknownRetries: 100,
      unknownRetryWindowMs: 1_000,
      clock: () => new Date(now),
      sleep: async (ms) => {
        now += ms;
      },
    });
    store.insertEvents = async (docs) => {
      store.insertCalls.push(docs.length);
      throw new StoreUnknownError('store write failed: something new');
    };
    const result = await handleBatch(batchPayload([good(0)]).payload, deps);

    expect(result).toMatchObject({ stored: 0, deadLettered: 1, resolvedOffset: '0' });
    expect(sink.letters[0]?.reason).toMatch(/^rejected-by-store: store write failed: something new/);
    // Backoff 100, 200, 400, 800 ms: the window of 1 s ends before a hundred retries.
    expect(store.insertCalls).toEqual([1, 1, 1, 1, 1]);
  });

  it('holds the partition while the store cannot serve, reporting one stall until it serves', async () => {
    const { store, deps } = setup();
    store.failures = Array.from({ length: 5 }, () => new StoreUnavailableError('store cannot serve'));
    const stalls: string[] = [];
    deps.observer = {
      stalled: (_topic, _partition, reason) => stalls.push(reason),
      resumed: () => stalls.push('resumed'),
    };
    const result = await handleBatch(batchPayload([good(0)]).payload, deps);

    expect(result).toMatchObject({ stored: 1, deadLettered: 0 });
    expect(store.insertCalls).toEqual([1, 1, 1, 1, 1, 1]);
    expect(stalls).toEqual(['store-unavailable', 'resumed']);
  });

  it('retries checkpoint and dead-letter failures too, and never resolves before they succeed', async () => {
    const { store, sink, deps } = setup();
    store.checkpointFailures = [new StoreUnavailableError('primary stepped down')];
    sink.failures = [new DeadLetterUnavailableError('dead-letter topic did not acknowledge')];
    const probe = batchPayload([good(0), rawMessage(1, { value: 'not json' })]);

    const result = await handleBatch(probe.payload, deps);

    expect(result).toMatchObject({ stored: 1, deadLettered: 1, resolvedOffset: '1' });
    expect(sink.letters).toHaveLength(1);
    expect(store.checkpoints).toHaveLength(1);
    expect(probe.calls.filter((c) => c.startsWith('resolve'))).toEqual(['resolve:1']);
  });

  it('abandons the batch without resolving when the consumer stops during retries', async () => {
    const { store, deps } = setup({ microBatchSize: 2 });
    const probe = batchPayload([good(0), good(1), good(2), good(3)]);
    let calls = 0;
    store.insertEvents = async (docs) => {
      calls += 1;
      if (calls === 1) return { inserted: docs.length, duplicates: 0, rejected: [] };
      if (calls === 3) probe.running.value = false;
      throw new StoreUnavailableError('store unreachable');
    };

    const result = await handleBatch(probe.payload, deps);

    expect(result).toEqual({
      stored: 2,
      duplicates: 0,
      deadLettered: 0,
      resolvedOffset: '1',
      abandoned: true,
    });
    expect(calls).toBe(3);
    expect(probe.calls.filter((c) => c.startsWith('resolve'))).toEqual(['resolve:1']);
    expect(store.checkpoints.map((c) => c.offset)).toEqual(['1']);
  });

  it('does nothing with a stale batch (partition revoked or seeked)', async () => {
    const { store, deps } = setup();
    const probe = batchPayload([good(0)]);
    probe.stale.value = true;

    const result = await handleBatch(probe.payload, deps);

    expect(result).toMatchObject({ stored: 0, resolvedOffset: undefined, abandoned: true });
    expect(store.insertCalls).toEqual([]);
    expect(probe.calls).toEqual([]);
  });

  it('lets a heartbeat failure (rebalance) escape without resolving further', async () => {
    const { store, deps } = setup({ microBatchSize: 1 });
    const probe = batchPayload([good(0), good(1)]);
    probe.payload.heartbeat = async () => {
      throw new Error('The group is rebalancing, so a rejoin is needed');
    };

    await expect(handleBatch(probe.payload, deps)).rejects.toThrow(/rebalancing/);
    expect(store.insertCalls).toEqual([1]);
    expect(probe.calls).toEqual(['resolve:0']);
  });

  it('does not retry a failure declared permanent outside the bulk write', async () => {
    const { store, deps } = setup();
    store.checkpointFailures = [new StoreRejectedError('checkpoint refused')];
    const probe = batchPayload([good(0)]);

    await expect(handleBatch(probe.payload, deps)).rejects.toThrow('checkpoint refused');
    expect(probe.calls).toEqual([]);
  });

  it('reports partition progress for the lag metrics', async () => {
    const { deps } = setup({ microBatchSize: 2 });
    const progress: Array<{ nextOffset: string; oldestUnstoredMs: number | undefined }> = [];
    deps.observer = {
      progress: ({ nextOffset, oldestUnstoredMs }) => progress.push({ nextOffset, oldestUnstoredMs }),
    };

    await handleBatch(batchPayload([good(10), good(11), good(12)], { highWatermark: '20' }).payload, deps);

    const at = (offset: number) => RECEIVED_AT.getTime() + offset;
    expect(progress).toEqual([
      { nextOffset: '10', oldestUnstoredMs: at(10) },
      { nextOffset: '12', oldestUnstoredMs: at(12) },
      { nextOffset: '12', oldestUnstoredMs: at(12) },
      // Past the fetched batch: the last stored event's time bounds the age of the next one.
      { nextOffset: '13', oldestUnstoredMs: at(12) },
    ]);

    const caughtUp: typeof progress = [];
    deps.observer = {
      progress: ({ nextOffset, oldestUnstoredMs }) => caughtUp.push({ nextOffset, oldestUnstoredMs }),
    };
    await handleBatch(batchPayload([good(13)]).payload, deps);
    expect(caughtUp.at(-1)).toEqual({ nextOffset: '14', oldestUnstoredMs: undefined });
  });
});
