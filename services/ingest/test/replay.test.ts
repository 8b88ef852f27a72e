import { decodeToken, headerString, KAFKA_HEADERS, REPLAY_OF_HEADER } from '@splitstream/shared';
import { uniqueName, waitFor } from '@splitstream/shared/testing';
import { type ConsumedMessage, consumeTopic, sampleEvent, topicSize } from './helpers';
import { adminHeaders, deadLetter, deadLetterSuite, postReplay, RECEIVED_AT } from './replay-fixtures';

describe('POST /v1/deadletters/replay (real broker and store)', () => {
  const tenant = uniqueName('replay');
  const otherTenant = uniqueName('replay-other');
  // A topic name nothing else uses makes the dead-letter ids unique to this run.
  const origin = uniqueName('origin');
  const base = Date.parse('2026-11-25T10:00:00Z');
  const at = (partition: number, offset: number, ms: number) => ({
    topic: origin,
    partition,
    offset,
    time: new Date(base + ms),
  });

  // Two events of one subject dead-lettered in one writer batch (same time), offsets 9 and 10:
  // they must be replayed in offset order (as text, "10" sorts before "9").
  const time = '2026-11-20T07:59:00Z';
  const first = sampleEvent({ subject: 'order-7', type: 'com.example.replay.a', time });
  const second = sampleEvent({ subject: 'order-7', type: 'com.example.replay.a', time });
  // No time: the replay fills it with the original receipt time, as ingest did at the first POST.
  const noSubject = sampleEvent({ type: 'com.example.replay.b' });
  const invalid = { specversion: '1.0', id: uniqueName('bad'), type: 'com.example.replay.a' };
  const records = {
    second: deadLetter(tenant, JSON.stringify(second), at(2, 10, 0)),
    first: deadLetter(tenant, JSON.stringify(first), at(2, 9, 0)),
    noSubject: deadLetter(tenant, JSON.stringify(noSubject), at(0, 3, 1_000)),
    invalid: deadLetter(
      tenant,
      JSON.stringify(invalid),
      at(1, 5, 2_000),
      'invalid-event: not a valid CloudEvent: /source Expected required property',
    ),
    undecodable: deadLetter(tenant, '{not json', at(1, 6, 3_000), 'undecodable: value is not JSON'),
    foreign: deadLetter(otherTenant, JSON.stringify(sampleEvent()), at(0, 4, 500)),
  };
  const replayable = [records.first, records.second, records.noSubject];

  const suite = deadLetterSuite(Object.values(records), { partitions: 3 });

  const replay = (body: unknown, asTenant = tenant, headers = adminHeaders(asTenant)) =>
    postReplay(suite.app, body, headers);
  // What both a dry run and the first replay plan for the tenant's five dead letters.
  const plan = {
    matched: 5,
    replayed: 3,
    ids: replayable.map((r) => r.id),
    deadLetterIds: replayable.map((r) => r._id),
  };

  it('dry run: answers what would be replayed and skipped, produces and marks nothing', async () => {
    const response = await replay({ dryRun: true });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ ...plan, dryRun: true, alreadyReplayed: 0, nextCursor: null });
    expect(body.token).toBeUndefined();
    expect(body.skipped).toEqual([
      {
        deadLetterId: records.invalid._id,
        id: invalid.id,
        reason: expect.stringMatching(/^invalid-event: still not a valid CloudEvent: \/source/),
        errors: [{ field: '/source', message: expect.any(String) }],
      },
      {
        deadLetterId: records.undecodable._id,
        reason: expect.stringMatching(/^undecodable: value is not JSON/),
      },
    ]);
    expect(await topicSize(suite.admin, suite.topic)).toBe(0);
    expect(await suite.deadLetters.countDocuments({ tenant, replayedAt: { $exists: true } })).toBe(0);
  });

  it('replays the valid originals with their key and headers, marks them, leaves the invalid ones dead', async () => {
    const response = await replay({});
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body).toMatchObject({ ...plan, dryRun: false, unmarked: [] });
    expect(body.skipped.map((s: { deadLetterId: string }) => s.deadLetterId)).toEqual([
      records.invalid._id,
      records.undecodable._id,
    ]);

    const messages = await consumeTopic(suite.kafka, suite.topic, 3);
    expect(messages).toHaveLength(3);
    const byId = new Map<unknown, ConsumedMessage>(messages.map((m) => [m.value.id, m]));
    for (const record of replayable) {
      const message = byId.get(record.id) as ConsumedMessage;
      expect(headerString(message.headers, KAFKA_HEADERS.tenant)).toBe(tenant);
      expect(headerString(message.headers, KAFKA_HEADERS.receivedAt)).toBe(RECEIVED_AT);
      expect(headerString(message.headers, KAFKA_HEADERS.contentType)).toBe('application/cloudevents+json');
      expect(headerString(message.headers, REPLAY_OF_HEADER)).toBe(record._id);
    }
    const [m1, m2, m3] = [first, second, noSubject].map((e) => byId.get(e.id) as ConsumedMessage);
    expect(m1?.key).toBe(`${tenant}/order-7`);
    expect(m1?.value).toEqual(first);
    // Same key, same partition, original order kept.
    expect(m2?.partition).toBe(m1?.partition);
    expect(BigInt(m2?.offset as string)).toBeGreaterThan(BigInt(m1?.offset as string));
    // No subject: keyed by identity; the missing time is the original receipt time.
    expect(m3?.key).toBe(`${tenant}/${noSubject.source}/${noSubject.id}`);
    expect(m3?.value).toEqual({ ...noSubject, time: RECEIVED_AT });

    // The token covers exactly the offsets written.
    const expected: Record<string, string> = {};
    for (const m of messages) {
      const current = expected[m.partition];
      if (current === undefined || BigInt(m.offset) > BigInt(current)) expected[m.partition] = m.offset;
    }
    expect(decodeToken(body.token)).toEqual({ topic: suite.topic, offsets: expected });

    // Marked after the acknowledgement, with where the copy went; the skipped ones untouched.
    for (const record of replayable) {
      const stored = await suite.deadLetters.findOne({ _id: record._id });
      const message = byId.get(record.id) as ConsumedMessage;
      expect(stored?.replayedAt).toBeInstanceOf(Date);
      expect(stored?.replayedTo).toEqual({
        topic: suite.topic,
        partition: message.partition,
        offset: message.offset,
      });
    }
    const untouched = await suite.deadLetters
      .find({ _id: { $in: [records.invalid._id, records.undecodable._id, records.foreign._id] } })
      .toArray();
    expect(untouched.map((r) => r.replayedAt)).toEqual([undefined, undefined, undefined]);
  });

  it('a second replay skips what was replayed unless includeReplayed is set', async () => {
    const again = await replay({});
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ matched: 2, replayed: 0, ids: [], alreadyReplayed: 3 });
    expect(decodeToken(again.json().token).offsets).toEqual({});
    expect(await topicSize(suite.admin, suite.topic)).toBe(3);

    const forced = await replay({ filter: { ids: [first.id] }, includeReplayed: true });
    expect(forced.statusCode).toBe(202);
    expect(forced.json()).toMatchObject({ matched: 1, replayed: 1, ids: [first.id], alreadyReplayed: 0 });
    await waitFor(async () => (await topicSize(suite.admin, suite.topic)) === 4, {
      what: 'the forced replay in the topic',
    });
  });

  it('never matches another tenant’s dead letters', async () => {
    const mine = await replay({ dryRun: true, includeReplayed: true, filter: { ids: [records.foreign.id] } });
    expect(mine.json()).toMatchObject({ matched: 0, replayed: 0, skipped: [] });
    const theirs = await replay({ dryRun: true, includeReplayed: true }, otherTenant);
    expect(theirs.json()).toMatchObject({ matched: 1, deadLetterIds: [records.foreign._id] });
    const theirsById = await replay(
      { dryRun: true, includeReplayed: true, filter: { ids: [first.id] } },
      otherTenant,
    );
    expect(theirsById.json()).toMatchObject({ matched: 0 });
  });

  it('filters by ids, type, reason code and dead-letter time, and pages with a cursor', async () => {
    const dry = async (filter: object, extra: object = {}) => {
      const response = await replay({ dryRun: true, includeReplayed: true, filter, ...extra });
      expect(response.statusCode).toBe(200);
      return response.json() as {
        deadLetterIds: string[];
        skipped: { deadLetterId: string }[];
        nextCursor: string | null;
      };
    };
    const matchedIds = (r: Awaited<ReturnType<typeof dry>>) =>
      [...r.deadLetterIds, ...r.skipped.map((s) => s.deadLetterId)].sort();
    expect(matchedIds(await dry({ reason: 'invalid-event' }))).toEqual([records.invalid._id]);
    expect(matchedIds(await dry({ type: 'com.example.replay.b' }))).toEqual([records.noSubject._id]);
    expect(matchedIds(await dry({ ids: [second.id, noSubject.id] }))).toEqual(
      [records.second._id, records.noSubject._id].sort(),
    );
    const window = await dry({
      since: new Date(base + 1_000).toISOString(),
      until: new Date(base + 3_000).toISOString(),
    });
    expect(matchedIds(window)).toEqual([records.noSubject._id, records.invalid._id].sort());

    const seen: string[] = [];
    let cursor: string | null | undefined;
    for (let page = 0; page < 6 && cursor !== null; page++) {
      const result = await dry({}, { limit: 2, ...(cursor ? { cursor } : {}) });
      seen.push(...matchedIds(result));
      cursor = result.nextCursor;
    }
    expect(cursor).toBeNull();
    expect(seen.sort()).toEqual(
      [records.first, records.second, records.noSubject, records.invalid, records.undecodable]
        .map((r) => r._id)
        .sort(),
    );
  });

  it('counts replayed and skipped dead letters in /metrics', async () => {
    const metrics = (await suite.app.inject('/metrics')).body;
    expect(metrics).toMatch(/ingest_replayed_events_total\{[^}]*\} 4/);
    expect(metrics).toMatch(/ingest_replay_skipped_total\{[^}]*reason="invalid-event"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/ingest_requests_total\{[^}]*route="\/v1\/deadletters\/replay"[^}]*status="202"/);
  });
});
