import { handleBatch } from '../../src/domain/batch-handler';
import {
  DeadLetterUnavailableError,
  StoreRejectedError,
  StoreUnavailableError,
  StoreUnknownError,
} from '../../src/errors';
import { batchPayload, rawMessage } from '../support';
import { good, NOW, setup } from './batch-fakes';

/** Retry with backoff: bounded for unclassified failures, unbounded for an unavailable store, stalls reported. */
describe('handleBatch: retries and stalls', () => {
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

  it('does not retry a failure declared permanent outside the bulk write', async () => {
    const { store, deps } = setup();
    store.checkpointFailures = [new StoreRejectedError('checkpoint refused')];
    const probe = batchPayload([good(0)]);

    await expect(handleBatch(probe.payload, deps)).rejects.toThrow('checkpoint refused');
    expect(probe.calls).toEqual([]);
  });
});
