import { ROLLUP_BLOCK_OFFSETS, valueOfKey } from '@splitstream/shared';
import { handleBatch } from '../../src/domain/batch-handler';
import type { RollupStore } from '../../src/domain/ports';
import { RecentIds } from '../../src/domain/recent-ids';
import { BatchAbandonedError, StoreRejectedError, StoreUnavailableError } from '../../src/errors';
import { batchPayload, cloudEvent, eventMessage } from '../support';
import { type FakeRollups, firstHalfOfDocuments, good, setup, TENANT } from './batch-fakes';

/** Rollup counts: each stored event once, whatever the deliveries (the same rules against the real store in integration). */
describe('handleBatch: rollup counts exactly once', () => {
  /** Per dimension; the hour grain always agrees with the minute one. */
  const totals = (rollups: ReturnType<typeof setup>['rollups']) =>
    (['type', 'source', 'subject'] as const).map((by) => {
      const total = rollups.total(TENANT, by);
      expect(rollups.total(TENANT, by, 'hour')).toBe(total);
      return total;
    });

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

  /** The rollups of `rollups`, but the delivery dies at `step` (after adding half the counts, for applyCells). */
  const dyingAt = (rollups: FakeRollups, step: 'saveLedger' | 'applyCells'): RollupStore => ({
    ledger: (key) => rollups.ledger(key),
    storedPositions: (ids) => rollups.storedPositions(ids),
    saveLedger: async (ledger) => {
      if (step === 'saveLedger') throw new BatchAbandonedError('killed');
      await rollups.saveLedger(ledger);
    },
    applyCells: async (marker, through, cells) => {
      await rollups.applyCells(marker, through, firstHalfOfDocuments(cells));
      throw new BatchAbandonedError('killed');
    },
  });

  it.each([
    ['before its ledger', 'saveLedger'],
    ['halfway through its counts', 'applyCells'],
  ] as const)('counts events stored by a delivery that died %s once, when they come again in other batches', async (_when, step) => {
    const { store, rollups, deps } = setup();
    const messages = [0, 1, 2, 3, 4, 5].map((i) => good(i, `e${i}`, `/source/${i % 3}`));
    const first = await handleBatch(batchPayload(messages).payload, {
      ...deps,
      rollups: dyingAt(rollups, step),
    });
    expect(first).toMatchObject({ abandoned: true });
    expect(store.docs.size).toBe(6);
    expect(
      (['type', 'source', 'subject'] as const).reduce((sum, by) => sum + rollups.total(TENANT, by), 0),
    ).toBeLessThan(18);

    // Redelivered in other batch boundaries, to a writer with an empty cache.
    await handleBatch(batchPayload(messages.slice(0, 2)).payload, deps);
    await handleBatch(batchPayload(messages.slice(2)).payload, deps);

    expect(totals(rollups)).toEqual([6, 6, 6]);
    expect([...rollups.ledgers.values()].map((l) => [l.through, l.pending])).toEqual([[5, undefined]]);
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

  it('keeps counts by value, any string as it is: a missing subject counts under null', async () => {
    const { rollups, deps } = setup();
    const odd = 'order.1 $x %2E';
    const withSubject = eventMessage(1, TENANT, cloudEvent('s1', { subject: odd }));
    await handleBatch(batchPayload([good(0), withSubject]).payload, deps);
    const subjects = [...rollups.cells.keys()]
      .map((key) => key.split('\n') as [string, string])
      .filter(([rollup]) => {
        const [, by, grain] = JSON.parse(rollup) as string[];
        return by === 'subject' && grain === 'minute';
      })
      .map(([, field]) => valueOfKey(field.split('.')[1] ?? ''));
    expect(subjects.sort()).toEqual([null, odd]);
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
