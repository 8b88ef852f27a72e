import { identityKey, toStoredEvent } from '@splitstream/shared';
import { handleBatch } from '../../src/domain/batch-handler';
import { StoreUnavailableError } from '../../src/errors';
import { batchPayload, cloudEvent, RECEIVED_AT } from '../support';
import { batchResult, good, NOW, setup, TENANT } from './batch-fakes';

/** The batch loop: micro-batches, checkpoint before resolve, heartbeats, commits, stopping early, progress. */
describe('handleBatch', () => {
  it('stores each event as toStoredEvent builds it, then checkpoints, resolves and commits', async () => {
    const { store, deps } = setup();
    const probe = batchPayload([good(0), good(1), good(2)], { partition: 4 });

    const result = await handleBatch(probe.payload, deps);

    expect(result).toEqual(batchResult({ stored: 3, resolvedOffset: '2' }));
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
      // Applied as of the last stored event's Kafka time: every event produced before it is stored.
      {
        _id: 'events/4',
        topic: 'events',
        partition: 4,
        offset: '2',
        updatedAt: NOW,
        appliedAsOf: new Date(RECEIVED_AT.getTime() + 2),
      },
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

  it('abandons the batch without resolving when the consumer stops during retries', async () => {
    const { store, deps } = setup({ microBatchSize: 2 });
    const probe = batchPayload([good(0), good(1), good(2), good(3)]);
    let calls = 0;
    store.insertEvents = async (docs) => {
      calls += 1;
      if (calls === 1) return { inserted: docs.length, duplicateIndexes: [], rejected: [] };
      if (calls === 3) probe.running.value = false;
      throw new StoreUnavailableError('store unreachable');
    };

    const result = await handleBatch(probe.payload, deps);

    expect(result).toEqual(batchResult({ stored: 2, resolvedOffset: '1', abandoned: true }));
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

  it('reports arrival to stored for each event now in the store, not for the ones the store refused', async () => {
    const { store, deps } = setup();
    store.refuseIds.add('e2');
    const seconds: number[] = [];
    deps.observer = { arrivalToStored: (values) => seconds.push(...values) };

    await handleBatch(batchPayload([good(1), good(2), good(3)]).payload, deps);

    // NOW is 5 s after RECEIVED_AT, the receipt time of every test event.
    expect(seconds).toEqual([5, 5]);
  });
});
