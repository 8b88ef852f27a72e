import { uniqueName } from '@splitstream/shared/testing';
import { sampleEvent, topicSize } from './helpers';
import { adminHeaders, deadLetter, deadLetterSuite, postReplay } from './replay-fixtures';

/**
 * A replay of more dead letters than the local store's connection pool (40): marking them replayed
 * is one update each, and FerretDB v1 holds a connection per update until the command ends, so a
 * single command of them never answered (and wedged the store for everyone).
 */
describe('POST /v1/deadletters/replay of many dead letters (real broker and store)', () => {
  const tenant = uniqueName('replay-many');
  const origin = uniqueName('origin-many');
  const records = Array.from({ length: 120 }, (_, offset) =>
    deadLetter(tenant, JSON.stringify(sampleEvent()), {
      topic: origin,
      partition: 0,
      offset,
      time: new Date(Date.parse('2026-11-25T10:00:00Z') + offset),
    }),
  );
  const suite = deadLetterSuite(records, { partitions: 1 });

  it('replays and marks 120 dead letters in one request, and a second request finds them replayed', async () => {
    const first = await postReplay(suite.app, { limit: 1000 }, adminHeaders(tenant));
    expect(first.statusCode).toBe(202);
    expect(first.json()).toMatchObject({ matched: 120, replayed: 120 });
    expect(await topicSize(suite.admin, suite.topic)).toBe(120);
    expect(await suite.deadLetters.countDocuments({ tenant, replayedAt: { $exists: true } })).toBe(120);

    const again = await postReplay(suite.app, { limit: 1000 }, adminHeaders(tenant));
    expect(again.json()).toMatchObject({ matched: 0, replayed: 0, alreadyReplayed: 120 });
  }, 60_000);
});
