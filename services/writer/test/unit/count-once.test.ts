import { ROLLUP_BLOCK_OFFSETS } from '@splitstream/shared';
import { handleBatch } from '../../src/domain/batch-handler';
import { RecentIds } from '../../src/domain/recent-ids';
import { BatchAbandonedError, StoreRejectedError, StoreUnavailableError } from '../../src/errors';
import { batchPayload, cloudEvent, eventMessage } from '../support';
import { good, setup, TENANT } from './batch-fakes';

/** Rollup counts: each stored event once, whatever the deliveries (the same rules against the real store in integration). */
describe('handleBatch: rollup counts exactly once', () => {
  const totals = (rollups: ReturnType<typeof setup>['rollups']) =>
    (['type', 'source', 'subject'] as const).map((by) => rollups.total(TENANT, by));

  it('counts each stored event once under type, source and subject', async () => {
    const { rollups, deps } = setup();
    await handleBatch(batchPayload([good(0), good(1), good(2)]).payload, deps);
    expect(totals(rollups)).toEqual([3, 3, 3]);
  });

  it('counts nothing again when Kafka redelivers a batch', async () => {
    const { rollups, deps } = setup({ recent: new RecentIds(100) });
    const messages = [good(0), good(1), good(2)];
    await handleBatch(batchPayload(messages).payload, deps);
    await handleBatch(batchPayload(messages).payload, deps);
    // Another writer, its cache empty, gets part of it again.
    await handleBatch(batchPayload(messages.slice(1)).payload, { ...deps, recent: new RecentIds(100) });
    expect(totals(rollups)).toEqual([3, 3, 3]);
  });

  it('counts events stored by a delivery that stopped before its counts, when they come again', async () => {
    const { store, rollups, deps } = setup();
    const messages = [good(0), good(1), good(2)];
    // The first delivery stored the events, then the writer died: no counts, no checkpoint.
    const first = setup();
    first.rollups.saveBlock = async () => {
      throw new BatchAbandonedError('killed');
    };
    expect(await handleBatch(batchPayload(messages).payload, first.deps)).toMatchObject({ abandoned: true });
    for (const [id, doc] of first.store.docs) store.docs.set(id, doc);
    expect(totals(rollups)).toEqual([0, 0, 0]);

    const result = await handleBatch(batchPayload(messages).payload, deps);

    expect(result).toMatchObject({ stored: 0, duplicates: 3 });
    expect(totals(rollups)).toEqual([3, 3, 3]);
  });

  it('never counts a client retry (the same event under another offset), in the same batch or a later one', async () => {
    const { rollups, deps } = setup({ recent: new RecentIds(100) });
    await handleBatch(batchPayload([good(0, 'a'), good(1, 'b'), good(2, 'a')]).payload, deps);
    await handleBatch(batchPayload([good(3, 'b'), good(4, 'c')]).payload, deps);
    await handleBatch(batchPayload([good(5, 'a')]).payload, { ...deps, recent: new RecentIds(100) });
    expect(totals(rollups)).toEqual([3, 3, 3]);
  });

  it('counts a dead-lettered event once its replay is stored, and a replay of a stored event never', async () => {
    const { store, rollups, deps } = setup();
    store.refuseIds.add('r');
    await handleBatch(batchPayload([good(0, 'r'), good(1, 's')]).payload, deps);
    expect(totals(rollups)).toEqual([1, 1, 1]);

    store.refuseIds.clear();
    await handleBatch(batchPayload([good(7, 'r'), good(8, 's')]).payload, deps);

    expect(totals(rollups)).toEqual([2, 2, 2]);
  });

  it('counts across a block boundary, each block in its own ledger', async () => {
    const { rollups, deps } = setup();
    const first = ROLLUP_BLOCK_OFFSETS - 2;
    const messages = [0, 1, 2, 3].map((i) => good(first + i));
    await handleBatch(batchPayload(messages).payload, deps);
    await handleBatch(batchPayload(messages.slice(1)).payload, deps);
    expect(totals(rollups)).toEqual([4, 4, 4]);
    expect([...rollups.ledgers.values()].map((l) => [l.block, l.through])).toEqual([
      [0, ROLLUP_BLOCK_OFFSETS - 1],
      [1, ROLLUP_BLOCK_OFFSETS + 1],
    ]);
  });

  it('keeps counts by value: a missing subject counts under null', async () => {
    const { rollups, deps } = setup();
    const withSubject = eventMessage(1, TENANT, cloudEvent('s1', { subject: 'order-1' }));
    await handleBatch(batchPayload([good(0), withSubject]).payload, deps);
    const subjects = [...rollups.cells.keys()]
      .map((key) => JSON.parse(key.split('\n')[0] ?? '[]') as [string, string, string, string | null])
      .filter(([, by]) => by === 'subject')
      .map(([, , , value]) => value);
    expect(subjects.sort()).toEqual([null, 'order-1']);
  });

  it('retries counts the store cannot take yet, holding the checkpoint until they are in', async () => {
    const { store, rollups, deps, sleeps } = setup();
    rollups.failures.push(new StoreUnavailableError('store unreachable'), new StoreUnavailableError('still'));
    await handleBatch(batchPayload([good(0), good(1)]).payload, deps);
    expect(sleeps.length).toBeGreaterThanOrEqual(2);
    expect(totals(rollups)).toEqual([2, 2, 2]);
    expect(store.checkpoints.map((c) => c.offset)).toEqual(['1']);
  });

  it('goes on when the store refuses the counts for good: the events stay stored, the miss is reported', async () => {
    const refused: number[] = [];
    const errors: string[] = [];
    const { store, rollups, deps } = setup({
      observer: { rollupsRefused: (_topic, count) => refused.push(count) },
      log: { info: () => {}, warn: () => {}, error: (_o, message) => errors.push(message) },
    });
    rollups.failures.push(new StoreRejectedError('document too large'));

    const result = await handleBatch(batchPayload([good(0), good(1)]).payload, deps);

    expect(result).toMatchObject({ stored: 2, resolvedOffset: '1' });
    expect(store.checkpoints.map((c) => c.offset)).toEqual(['1']);
    expect(refused).toEqual([2]);
    expect(errors).toEqual(['rollups refused by the store: stats miss these events']);
  });
});
