import { gzipSync } from 'node:zlib';
import {
  createWriteClient,
  type DeadLetterRecord,
  deadLetterId,
  decodeToken,
  headerString,
  KAFKA_HEADERS,
  REPLAY_OF_HEADER,
  SCOPES,
  STORE,
} from '@splitstream/shared';
import { TcpProxy, testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import type { FastifyInstance } from 'fastify';
import type { Admin } from 'kafkajs';
import type { Collection, MongoClient } from 'mongodb';
import {
  buildIngest,
  buildReadyIngest,
  type ConsumedMessage,
  consumeTopic,
  createTopic,
  sampleEvent,
  testKafka,
  topicSize,
  writeHeaders,
} from './helpers';

const RECEIVED_AT = '2026-11-20T08:00:00.000Z';
const adminHeaders = (tenant: string) => writeHeaders(tenant, [SCOPES.admin]);

/** A dead letter as the writer records it (shared DeadLetterRecord), for an original value. */
function deadLetter(
  tenant: string | undefined,
  value: string | null,
  at: { topic: string; partition: number; offset: number; time: Date },
  reason = 'rejected-by-store: field name not allowed',
): DeadLetterRecord {
  const parsed = (() => {
    try {
      return JSON.parse(value ?? '') as Record<string, unknown>;
    } catch {
      return {};
    }
  })();
  const pick = (name: string) => (typeof parsed[name] === 'string' ? { [name]: parsed[name] as string } : {});
  return {
    _id: deadLetterId(at.topic, at.partition, String(at.offset)),
    ...(tenant ? { tenant } : {}),
    ...pick('id'),
    ...pick('source'),
    ...pick('type'),
    reason,
    deadLetteredAt: at.time,
    topic: at.topic,
    partition: at.partition,
    offset: String(at.offset),
    key: tenant ? `${tenant}/x` : null,
    headers: {
      [KAFKA_HEADERS.contentType]: 'application/cloudevents+json',
      ...(tenant ? { [KAFKA_HEADERS.tenant]: tenant } : {}),
      [KAFKA_HEADERS.receivedAt]: RECEIVED_AT,
    },
    value,
  };
}

describe('POST /v1/deadletters/replay (real broker and store)', () => {
  const kafka = testKafka();
  let admin: Admin;
  let topic: string;
  let app: FastifyInstance;
  let mongo: MongoClient;
  let deadLetters: Collection<DeadLetterRecord>;
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

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    topic = await createTopic(admin, 3);
    app = await buildReadyIngest(topic);
    mongo = createWriteClient(testInfra().writeUri);
    deadLetters = mongo.db(STORE.database).collection<DeadLetterRecord>(STORE.collections.deadLetters);
    await deadLetters.insertMany(Object.values(records));
  });

  afterAll(async () => {
    await app?.close();
    await deadLetters?.deleteMany({ tenant: { $in: [tenant, otherTenant] } });
    await mongo?.close();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  const replay = (body: unknown, asTenant = tenant, headers = adminHeaders(asTenant)) =>
    app.inject({
      method: 'POST',
      url: '/v1/deadletters/replay',
      headers,
      ...(body === undefined ? {} : { payload: body as object }),
    });

  it('dry run: answers what would be replayed and skipped, produces and marks nothing', async () => {
    const response = await replay({ dryRun: true });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      dryRun: true,
      matched: 5,
      replayed: 3,
      ids: replayable.map((r) => r.id),
      deadLetterIds: replayable.map((r) => r._id),
      alreadyReplayed: 0,
      nextCursor: null,
    });
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
    expect(await topicSize(admin, topic)).toBe(0);
    expect(await deadLetters.countDocuments({ tenant, replayedAt: { $exists: true } })).toBe(0);
  });

  it('replays the valid originals with their key and headers, marks them, leaves the invalid ones dead', async () => {
    const response = await replay({});
    expect(response.statusCode).toBe(202);
    const body = response.json();
    expect(body).toMatchObject({
      dryRun: false,
      matched: 5,
      replayed: 3,
      ids: replayable.map((r) => r.id),
      deadLetterIds: replayable.map((r) => r._id),
      unmarked: [],
    });
    expect(body.skipped.map((s: { deadLetterId: string }) => s.deadLetterId)).toEqual([
      records.invalid._id,
      records.undecodable._id,
    ]);

    const messages = await consumeTopic(kafka, topic, 3);
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
    expect(decodeToken(body.token)).toEqual({ topic, offsets: expected });

    // Marked after the acknowledgement, with where the copy went; the skipped ones untouched.
    for (const record of replayable) {
      const stored = await deadLetters.findOne({ _id: record._id });
      const message = byId.get(record.id) as ConsumedMessage;
      expect(stored?.replayedAt).toBeInstanceOf(Date);
      expect(stored?.replayedTo).toEqual({ topic, partition: message.partition, offset: message.offset });
    }
    const untouched = await deadLetters
      .find({ _id: { $in: [records.invalid._id, records.undecodable._id, records.foreign._id] } })
      .toArray();
    expect(untouched.map((r) => r.replayedAt)).toEqual([undefined, undefined, undefined]);
  });

  it('a second replay skips what was replayed unless includeReplayed is set', async () => {
    const again = await replay({});
    expect(again.statusCode).toBe(202);
    expect(again.json()).toMatchObject({ matched: 2, replayed: 0, ids: [], alreadyReplayed: 3 });
    expect(decodeToken(again.json().token).offsets).toEqual({});
    expect(await topicSize(admin, topic)).toBe(3);

    const forced = await replay({ filter: { ids: [first.id] }, includeReplayed: true });
    expect(forced.statusCode).toBe(202);
    expect(forced.json()).toMatchObject({ matched: 1, replayed: 1, ids: [first.id], alreadyReplayed: 0 });
    await waitFor(async () => (await topicSize(admin, topic)) === 4, {
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

  it('answers 403 without the events:admin scope', async () => {
    const response = await replay(
      { dryRun: true },
      tenant,
      writeHeaders(tenant, [SCOPES.write, SCOPES.read]),
    );
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().detail).toContain('events:admin');
  });

  it.each([
    ['an impossible date', { filter: { since: '2026-02-30T00:00:00Z' } }, '/filter/since'],
    ['a date that is not RFC 3339', { filter: { until: 'yesterday' } }, '/filter/until'],
    ['a limit of 0', { limit: 0 }, '/limit'],
    ['a limit over 1000', { limit: 1001 }, '/limit'],
    ['a misspelt criterion', { filter: { tpye: 'x' } }, '/filter/tpye'],
    ['an unknown reason code', { filter: { reason: 'broken' } }, '/filter/reason'],
    ['an empty id', { filter: { ids: [''] } }, '/filter/ids/0'],
    // Values no event can hold: a 400, not the store's error (U+0000 in a query was a 500).
    ['an id with U+0000', { filter: { ids: ['a', 'b\u0000'] } }, '/filter/ids/1'],
    ['a type with a control character', { filter: { type: 'a\u0007' } }, '/filter/type'],
    ['a source with white space', { filter: { source: '/a b' } }, '/filter/source'],
    ['a dryRun that is not a boolean', { dryRun: 'yes' }, '/dryRun'],
    ['a cursor not of the documented form', { cursor: 'bm90LWEtY3Vyc29y' }, '/cursor'],
    ['an array body', [], '/'],
  ])('answers 400 for %s, naming the field', async (_what, body, field) => {
    const response = await replay(body);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('names every bad field at once', async () => {
    const response = await replay({
      filter: { reason: 'nope', extra: 1, since: '2026-02-30T00:00:00Z' },
      limit: 'ten',
    });
    expect(response.statusCode).toBe(400);
    const errors: { field: string; message: string }[] = response.json().errors;
    expect(errors.map((e) => e.field).sort()).toEqual([
      '/filter/extra',
      '/filter/reason',
      '/filter/since',
      '/limit',
    ]);
    expect(errors.find((e) => e.field === '/filter/reason')?.message).toMatch(
      /must be one of .*invalid-event/,
    );
  });

  // How two fields relate is no schema's to say: an empty range is an empty replay, not a 400.
  it.each([
    ['until equal to since', '2026-11-26T00:00:00Z'],
    ['until before since', '2026-11-25T00:00:00Z'],
  ])('matches nothing with %s', async (_what, until) => {
    const response = await replay({ filter: { since: '2026-11-26T00:00:00Z', until }, dryRun: true });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ matched: 0, replayed: 0 });
  });

  it('takes a gzip body like every route, and refuses other encodings with 415', async () => {
    const post = (encoding: string, payload: Buffer | string) =>
      app.inject({
        method: 'POST',
        url: '/v1/deadletters/replay',
        headers: {
          ...adminHeaders(tenant),
          'content-type': 'application/json',
          'content-encoding': encoding,
        },
        payload,
      });
    const zipped = await post('GZip', gzipSync(JSON.stringify({ dryRun: true, filter: { ids: ['none'] } })));
    expect(zipped.statusCode).toBe(200);
    expect(zipped.json()).toMatchObject({ dryRun: true, matched: 0 });
    // Before, the header was ignored: plain JSON labelled gzip was taken, a real gzip body was a 400.
    expect((await post('gzip', '{"dryRun":true}')).statusCode).toBe(400);
    const refused = await post('br', '{"dryRun":true}');
    expect(refused.statusCode).toBe(415);
    expect(refused.json().detail).toContain('Content-Encoding');
  });

  it('answers 400 for a null or empty body, 415 without JSON', async () => {
    const post = (headers: Record<string, string>, payload?: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/deadletters/replay',
        headers: { ...adminHeaders(tenant), ...headers },
        ...(payload === undefined ? {} : { payload }),
      });
    const nullBody = await post({ 'content-type': 'application/json' }, 'null');
    expect(nullBody.statusCode).toBe(400);
    expect(nullBody.json().errors).toEqual([{ field: '/', message: expect.stringContaining('JSON object') }]);
    expect((await post({ 'content-type': 'application/json' }, '')).statusCode).toBe(400);
    for (const [headers, payload] of [
      [{ 'content-type': 'text/plain' }, '{}'],
      [{}, undefined],
    ] as const) {
      const refused = await post(headers, payload);
      expect(refused.statusCode).toBe(415);
      expect(refused.json().detail).toContain('application/json');
    }
  });

  it('counts replayed and skipped dead letters in /metrics', async () => {
    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/ingest_replayed_events_total\{[^}]*\} 4/);
    expect(metrics).toMatch(/ingest_replay_skipped_total\{[^}]*reason="invalid-event"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/ingest_requests_total\{[^}]*route="\/v1\/deadletters\/replay"[^}]*status="202"/);
  });
});

describe('replay when a dependency is away', () => {
  const kafka = testKafka();
  let admin: Admin;
  let topic: string;
  let mongo: MongoClient;
  let deadLetters: Collection<DeadLetterRecord>;
  const tenant = uniqueName('replay-outage');
  const origin = uniqueName('origin');
  const event = sampleEvent();
  const record = deadLetter(tenant, JSON.stringify(event), {
    topic: origin,
    partition: 0,
    offset: 1,
    time: new Date('2026-11-25T10:00:00Z'),
  });

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    topic = await createTopic(admin, 1);
    mongo = createWriteClient(testInfra().writeUri);
    deadLetters = mongo.db(STORE.database).collection<DeadLetterRecord>(STORE.collections.deadLetters);
    await deadLetters.insertOne(record);
  });

  afterAll(async () => {
    await deadLetters?.deleteMany({ tenant });
    await mongo?.close();
    await admin.deleteTopics({ topics: [topic] });
    await admin.disconnect();
  });

  const replay = (app: FastifyInstance, body: object) =>
    app.inject({
      method: 'POST',
      url: '/v1/deadletters/replay',
      headers: adminHeaders(tenant),
      payload: body,
    });

  it('store away: replay 503 + Retry-After at once, while /readyz stays ready and events are still accepted', async () => {
    const url = new URL(testInfra().writeUri);
    const proxy = await new TcpProxy(url.hostname, Number(url.port)).start();
    const app = await buildIngest(
      topic,
      {
        MONGO_WRITE_URI: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true&retryWrites=false`,
        INGEST_STORE_TIMEOUT_MS: '500',
      },
      undefined,
      { heartbeatFrequencyMS: 500 },
    );
    try {
      expect((await replay(app, { dryRun: true })).json()).toMatchObject({ matched: 1 });
      await proxy.cut();
      const started = Date.now();
      const refused = await replay(app, {});
      expect(refused.statusCode).toBe(503);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json().detail).toMatch(/store is unreachable/);

      const ready = await app.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json().checks.kafka).toBe('ok');
      expect(ready.json().checks.store).not.toBe('ok');
      const accepted = await app.inject({
        method: 'POST',
        url: '/v1/events',
        headers: writeHeaders(tenant),
        payload: sampleEvent(),
      });
      expect(accepted.statusCode).toBe(202);
      expect(await deadLetters.countDocuments({ tenant, replayedAt: { $exists: true } })).toBe(0);

      await proxy.restore();
      await waitFor(async () => (await replay(app, { dryRun: true })).statusCode === 200, {
        what: 'replay answering again',
      });
    } finally {
      await app.close();
      await proxy.stop();
    }
  });

  it('broker away: a replay is 503 + Retry-After, nothing is marked; a dry run still answers', async () => {
    // Nothing listens on port 1: the pipeline is unavailable from the start.
    const app = await buildIngest(topic, { KAFKA_BROKERS: '127.0.0.1:1' });
    try {
      const refused = await replay(app, {});
      expect(refused.statusCode).toBe(503);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.json().detail).toMatch(/broker is unreachable/);
      expect(await deadLetters.countDocuments({ tenant, replayedAt: { $exists: true } })).toBe(0);
      const dry = await replay(app, { dryRun: true });
      expect(dry.statusCode).toBe(200);
      expect(dry.json()).toMatchObject({ matched: 1, replayed: 1, ids: [event.id] });
    } finally {
      await app.close();
    }
  });
});
