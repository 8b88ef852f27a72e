import {
  type DeadLetterRecord,
  deadLetterFilter,
  decodeToken,
  EVENT_LIMITS,
  KAFKA_HEADERS,
  REPLAY_OF_HEADER,
} from '@splitstream/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Message } from 'kafkajs';
import { MongoNetworkError, MongoServerError } from 'mongodb';
import { storeUnavailable } from '../src/domain/deadletter-store';
import type { WrittenMessage } from '../src/domain/pipeline';
import {
  type DeadLetterSource,
  planReplay,
  type ReplayDeps,
  type ReplayMark,
  replayDeadLetters,
  replayOrder,
  toReplayRequest,
} from '../src/domain/replay';
import { IngestUnavailableError, UNAVAILABLE_REASONS } from '../src/errors';

const TENANT = 'acme';
const NOW = new Date('2026-11-26T12:00:00Z');

function record(offset: number, event: object | string | null, overrides: Partial<DeadLetterRecord> = {}) {
  const value = event === null || typeof event === 'string' ? event : JSON.stringify(event);
  return {
    _id: `events/0/${offset}`,
    tenant: TENANT,
    reason: 'rejected-by-store: x',
    deadLetteredAt: new Date('2026-11-26T10:00:00Z'),
    topic: 'events',
    partition: 0,
    offset: String(offset),
    key: null,
    headers: { [KAFKA_HEADERS.receivedAt]: '2026-11-26T09:00:00.000Z' },
    value,
    ...overrides,
  } satisfies DeadLetterRecord;
}

const event = (id: string, extra: object = {}) => ({
  specversion: '1.0',
  id,
  source: '/unit',
  type: 'com.example.unit',
  ...extra,
});

const silentLog = { warn: jest.fn() } as unknown as FastifyBaseLogger;

/** An in-memory dead-letter source: every record matches; marks are recorded (or fail). */
function fakeSource(records: DeadLetterRecord[], options: { markFails?: boolean } = {}) {
  const marked: ReplayMark[] = [];
  const source: DeadLetterSource = {
    select: async (selection) => records.slice(0, selection.limit + 1),
    countReplayed: async () => 0,
    load: async (_tenant, ids) => records.filter((r) => ids.includes(r._id)).reverse(),
    markReplayed: async (_tenant, _topic, marks) => {
      if (options.markFails) throw new MongoNetworkError('store gone');
      marked.push(...marks);
    },
  };
  return { source, marked };
}

function deps(source: DeadLetterSource, submit: ReplayDeps['submit']): ReplayDeps {
  return {
    source,
    submit,
    topic: 'events',
    retryAfterSeconds: 1,
    storeError: storeUnavailable(1),
    log: silentLog,
    now: () => NOW,
  };
}

/** A submit that writes every message of a call at consecutive offsets of partition 0. */
function fakeKafka(options: { failOnCall?: number } = {}) {
  const sent: Message[][] = [];
  let next = 100;
  const submit = async (messages: Message[]): Promise<WrittenMessage[]> => {
    if (sent.length + 1 === options.failOnCall) {
      throw new IngestUnavailableError(UNAVAILABLE_REASONS.broker, 'the event broker is unreachable', {
        retryAfterSeconds: 1,
      });
    }
    sent.push(messages);
    return messages.map(() => ({ partition: 0, offset: String(next++) }));
  };
  return { submit, sent };
}

const request = (extra: object = {}) => toReplayRequest({ ...extra });

describe('toReplayRequest', () => {
  it('applies the defaults and keeps each criterion', () => {
    expect(toReplayRequest({})).toEqual({
      dryRun: false,
      selection: { limit: 100, includeReplayed: false },
    });
    const parsed = toReplayRequest({
      filter: {
        ids: ['a', 'b', 'a'],
        source: '/s',
        type: 't',
        reason: 'invalid-event',
        since: '2026-11-26T00:00:00+01:00',
        until: '2026-11-27T00:00:00Z',
      },
      limit: 5,
      dryRun: true,
      includeReplayed: true,
    });
    expect(parsed).toEqual({
      dryRun: true,
      selection: {
        ids: ['a', 'b'],
        source: '/s',
        type: 't',
        reason: 'invalid-event',
        range: { since: new Date('2026-11-25T23:00:00Z'), until: new Date('2026-11-27T00:00:00Z') },
        limit: 5,
        includeReplayed: true,
      },
    });
  });
});

describe('planReplay', () => {
  it('builds the message a POST would have: key, headers, original receipt time, replay-of', () => {
    const plan = planReplay(record(1, event('e1', { subject: 'order-1' })), TENANT, NOW);
    if (!plan.ok) throw new Error('expected a plan');
    expect(plan.message.key).toBe('acme/order-1');
    expect(plan.message.headers).toEqual({
      [KAFKA_HEADERS.contentType]: 'application/cloudevents+json',
      [KAFKA_HEADERS.tenant]: TENANT,
      [KAFKA_HEADERS.receivedAt]: '2026-11-26T09:00:00.000Z',
      [REPLAY_OF_HEADER]: 'events/0/1',
    });
    expect(JSON.parse(plan.message.value as string).time).toBe('2026-11-26T09:00:00.000Z');
  });

  it('uses the replay time when the original has no receipt header', () => {
    const plan = planReplay(record(1, event('e1'), { headers: {} }), TENANT, NOW);
    if (!plan.ok) throw new Error('expected a plan');
    expect(plan.message.headers?.[KAFKA_HEADERS.receivedAt]).toBe(NOW.toISOString());
    expect(plan.message.key).toBe('acme//unit/e1');
  });

  it.each([
    ['another tenant’s record', record(1, event('e1'), { tenant: 'globex' }), /^tenant-mismatch: /],
    ['a record without tenant', record(1, event('e1'), { tenant: undefined }), /^tenant-mismatch: /],
    ['no value', record(1, null), /^undecodable: the dead letter has no text value/],
    ['not JSON', record(1, '{'), /^undecodable: value is not JSON/],
    ['not a CloudEvent', record(1, { id: 'x' }), /^invalid-event: still not a valid CloudEvent/],
    [
      'too large',
      record(1, event('big', { data: 'x'.repeat(EVENT_LIMITS.maxEventBytes) })),
      /^too-large: the event is \d+ bytes/,
    ],
  ])('skips %s with the reason', (_what, dead, reason) => {
    const plan = planReplay(dead, TENANT, NOW);
    expect(plan.ok).toBe(false);
    if (!plan.ok) expect(plan.skipped.reason).toMatch(reason);
  });
});

describe('replayOrder', () => {
  it('orders one partition by numeric offset within one dead-letter time', () => {
    const positions = [record(10, null), record(9, null), record(100, null)];
    expect(positions.sort(replayOrder).map((p) => p.offset)).toEqual(['9', '10', '100']);
  });
});

describe('replayDeadLetters', () => {
  it('replays in original order, marks what Kafka acknowledged, skips the rest, token over all offsets', async () => {
    const records = [record(10, event('b')), record(9, event('a')), record(11, { nope: true })];
    const { source, marked } = fakeSource(records);
    const kafka = fakeKafka();
    const result = await replayDeadLetters(deps(source, kafka.submit), TENANT, request());
    expect(result).toMatchObject({
      matched: 3,
      replayed: 2,
      ids: ['a', 'b'],
      unmarked: [],
      nextCursor: null,
    });
    expect(result.skipped).toEqual([
      expect.objectContaining({
        deadLetterId: 'events/0/11',
        reason: expect.stringMatching(/^invalid-event/),
      }),
    ]);
    expect(marked).toEqual([
      { deadLetterId: 'events/0/9', partition: 0, offset: '100' },
      { deadLetterId: 'events/0/10', partition: 0, offset: '101' },
    ]);
    expect(decodeToken(result.token as string)).toEqual({ topic: 'events', offsets: { '0': '101' } });
  });

  it('answers 202 with the unmarked dead letters when marking fails after Kafka acknowledged', async () => {
    const { source } = fakeSource([record(1, event('a'))], { markFails: true });
    const result = await replayDeadLetters(deps(source, fakeKafka().submit), TENANT, request());
    expect(result).toMatchObject({ replayed: 1, ids: ['a'], unmarked: ['events/0/1'] });
  });

  it('sends at most one batch request’s bytes at a time; a failure part-way is a 503 saying what was replayed', async () => {
    // Six ~200 KiB events: two sends of at most 1 MiB; the second one fails.
    const data = 'x'.repeat(200 * 1024);
    const records = Array.from({ length: 6 }, (_, i) => record(i + 1, event(`e${i + 1}`, { data })));
    const { source, marked } = fakeSource(records);
    const kafka = fakeKafka({ failOnCall: 2 });
    let error: IngestUnavailableError | undefined;
    try {
      await replayDeadLetters(deps(source, kafka.submit), TENANT, request());
    } catch (e) {
      error = e as IngestUnavailableError;
    }
    expect(error).toBeInstanceOf(IngestUnavailableError);
    expect(error?.status).toBe(503);
    expect(error?.retryAfterSeconds).toBe(1);
    expect(error?.message).toMatch(/broker is unreachable; 5 of 6 dead letters were replayed/);
    expect(error?.extensions).toMatchObject({ replayed: 5, ids: ['e1', 'e2', 'e3', 'e4', 'e5'] });
    expect(kafka.sent.map((s) => s.length)).toEqual([5]);
    expect(marked).toHaveLength(5);
  });

  it('a dry run submits and marks nothing', async () => {
    const { source, marked } = fakeSource([record(1, event('a'))]);
    const kafka = fakeKafka();
    const result = await replayDeadLetters(deps(source, kafka.submit), TENANT, request({ dryRun: true }));
    expect(result).toEqual({
      dryRun: true,
      matched: 1,
      replayed: 1,
      ids: ['a'],
      deadLetterIds: ['events/0/1'],
      skipped: [],
      alreadyReplayed: 0,
      nextCursor: null,
    });
    expect(kafka.sent).toEqual([]);
    expect(marked).toEqual([]);
  });

  it('gives a cursor when more match than the limit', async () => {
    const { source } = fakeSource([record(1, event('a')), record(2, event('b'))]);
    const result = await replayDeadLetters(
      deps(source, fakeKafka().submit),
      TENANT,
      request({ limit: 1, dryRun: true }),
    );
    expect(result.matched).toBe(1);
    expect(toReplayRequest({ cursor: result.nextCursor ?? undefined }).selection.after).toEqual({
      time: new Date('2026-11-26T10:00:00Z'),
      id: 'events/0/1',
    });
  });
});

describe('store access', () => {
  it('only an unreachable store is a 503; other store errors stay errors', () => {
    const map = storeUnavailable(2);
    const unreachable = map(new MongoNetworkError('connection reset'));
    expect(unreachable).toBeInstanceOf(IngestUnavailableError);
    expect((unreachable as IngestUnavailableError).retryAfterSeconds).toBe(2);
    const other = new MongoServerError({ message: 'bad', code: 2 });
    expect(map(other)).toBe(other);
  });

  it('puts the tenant first and turns client values into plain equality, never operators', () => {
    const { selection } = toReplayRequest({
      filter: { ids: ['a'], type: 't', reason: 'too-large', since: '2026-11-26T00:00:00Z' },
    });
    const filter = deadLetterFilter({ tenant: TENANT, ...selection, replayed: 'exclude' });
    expect(Object.keys(filter)[0]).toBe('tenant');
    expect(filter).toEqual({
      tenant: TENANT,
      id: { $in: ['a'] },
      type: 't',
      reason: { $regex: '^too-large:' },
      $and: [
        { deadLetteredAt: { $gte: new Date('2026-11-26T00:00:00Z') } },
        { replayedAt: { $exists: false } },
      ],
    });
  });
});
