import { DEAD_LETTER_REASONS, identityKey } from '@splitstream/shared';
import { handleBatch } from '../../src/domain/batch-handler';
import { RecentIds } from '../../src/domain/recent-ids';
import { batchPayload, cloudEvent, eventMessage, rawMessage } from '../support';
import { good, setup, TENANT } from './batch-fakes';

/** Duplicates counted, not failed; poison and refused events split out and dead-lettered. */
describe('handleBatch: duplicates and dead letters', () => {
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
        return {
          inserted: 0,
          duplicateIndexes: [],
          rejected: [{ index: 0, code: 2, message: 'invalid key' }],
        };
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
});
