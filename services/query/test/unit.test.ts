import {
  afterPosition,
  ConfigError,
  daysOf,
  isStoreUnavailable,
  parseRange,
  parseRfc3339,
  UnavailableError,
  ValidationError,
} from '@splitstream/shared';
import { MongoNetworkError, MongoServerError, MongoServerSelectionError } from 'mongodb';
import { DEFAULT_MAX_WAIT_MS, DEFAULT_PORT, loadQueryConfig } from '../src/config';
import { type CheckpointView, ConsistencyTimeout, shortfalls, waitForToken } from '../src/domain/checkpoints';
import { eventsFilter } from '../src/domain/events';
import { bucketStart, coveredUntil, minuteAligned } from '../src/domain/stats';

describe('config', () => {
  it('has defaults for every setting', () => {
    const config = loadQueryConfig({});
    expect(config.PORT).toBe(DEFAULT_PORT);
    expect(config.READ_MAX_WAIT_MS).toBe(DEFAULT_MAX_WAIT_MS);
    expect(config.KAFKA_TOPIC).toBe('events');
    expect(config.MONGO_READ_URI).toContain(':27018');
    expect(config.MONGO_WRITE_URI).toContain(':27017');
  });

  it('refuses bad values naming the variable', () => {
    expect(() => loadQueryConfig({ MONGO_READ_URI: 'http://x' })).toThrow(/MONGO_READ_URI/);
    expect(() => loadQueryConfig({ STORE_HEARTBEAT_MS: '100' })).toThrow(ConfigError);
    expect(() => loadQueryConfig({ READ_MAX_WAIT_MS: '20000' })).toThrow(
      /READ_MAX_WAIT_MS.*READ_MAX_WAIT_CAP_MS/,
    );
  });
});

describe('cursor', () => {
  it('builds a keyset condition with a tight time bound and an _id tie-break', () => {
    const time = new Date(0);
    expect(afterPosition('time', { time, id: 'k' }, 'desc')).toEqual({
      time: { $lte: time },
      $or: [{ time: { $lt: time } }, { time, _id: { $lt: 'k' } }],
    });
  });
});

describe('filters', () => {
  it('puts the tenant first and client values only as plain values', () => {
    const filter = eventsFilter({
      tenant: 't',
      type: '$ne',
      source: '{"$gt":""}',
      range: parseRange({ since: '2026-01-01T00:00:00Z' }, (name) => `querystring.${name}`),
      limit: 10,
      order: 'asc',
    });
    expect(Object.keys(filter)[0]).toBe('tenant');
    expect(filter).toEqual({
      tenant: 't',
      type: '$ne',
      source: '{"$gt":""}',
      $and: [{ time: { $gte: new Date('2026-01-01T00:00:00Z') } }],
    });
  });

  it('widens a stats range to whole minutes and keeps an empty one empty', () => {
    const at = (iso: string) => new Date(iso);
    expect(
      minuteAligned({ since: at('2026-01-01T10:15:30Z'), until: at('2026-01-01T10:20:00.001Z') }),
    ).toEqual({
      since: at('2026-01-01T10:15:00Z'),
      until: at('2026-01-01T10:21:00Z'),
    });
    expect(minuteAligned({ since: at('2026-01-01T10:15:30Z'), until: at('2026-01-01T10:15:10Z') })).toEqual({
      since: at('2026-01-01T10:15:00Z'),
      until: at('2026-01-01T10:15:00Z'),
    });
  });

  it('reads the rollups of each UTC day the range touches', () => {
    const at = (iso: string) => new Date(iso);
    expect(daysOf(at('2026-01-01T23:59:00Z'), at('2026-01-03T00:00:00Z'))).toEqual([
      '2026-01-01',
      '2026-01-02',
    ]);
    expect(daysOf(at('2026-01-01T10:00:00Z'), at('2026-01-01T10:00:00Z'))).toEqual([]);
  });

  it('turns bucket labels into RFC 3339 starts and bounds the range', () => {
    expect(bucketStart('2026-11-26T10:15Z')).toBe('2026-11-26T10:15:00Z');
    expect(bucketStart('2026-11-26T10:00Z')).toBe('2026-11-26T10:00:00Z');
    expect(bucketStart('2026-11-26')).toBe('2026-11-26T00:00:00Z');
    const since = new Date('2026-01-01T00:00:00Z');
    const tenDays = new Date('2026-01-11T00:00:00Z');
    expect(coveredUntil({ interval: 'day', since, until: tenDays }, 10)).toEqual(tenDays);
    expect(coveredUntil({ interval: 'day', since, until: new Date('2026-01-11T00:00:01Z') }, 10)).toEqual(
      tenDays,
    );
    expect(coveredUntil({ interval: 'minute', since, until: new Date('9998-01-01T00:00:00Z') }, 10)).toEqual(
      new Date('2026-01-01T00:10:00Z'),
    );
    // An empty range stays as asked.
    expect(coveredUntil({ interval: 'day', since, until: since }, 10)).toEqual(since);
    expect(coveredUntil({ interval: 'day', since: tenDays, until: since }, 10)).toEqual(since);
  });
});

describe('time parameters', () => {
  it('parses RFC 3339 with offsets, fractions and lower-case separators', () => {
    expect(parseRfc3339('2026-11-26T12:00:00+02:00', 'f').toISOString()).toBe('2026-11-26T10:00:00.000Z');
    expect(parseRfc3339('2026-11-26t10:00:00.5z', 'f').toISOString()).toBe('2026-11-26T10:00:00.500Z');
    expect(parseRfc3339('2028-02-29T00:00:00Z', 'f').toISOString()).toBe('2028-02-29T00:00:00.000Z');
  });

  it.each([
    '2026-02-30T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-04-31T00:00:00Z',
    '2026-13-01T00:00:00Z',
    '2026-00-10T00:00:00Z',
    '2026-11-00T00:00:00Z',
    '2026-11-26T24:00:00Z',
    '2026-11-26T10:60:00Z',
    '2026-11-26T10:00:60Z',
    '2026-11-26T10:00:00+24:00',
  ])('refuses the impossible date-time %s naming the parameter', (value) => {
    expect(() => parseRfc3339(value, 'querystring.since')).toThrow(ValidationError);
    expect(() => parseRfc3339(value, 'querystring.since')).toThrow(/querystring.since/);
  });
});

describe('read-your-writes', () => {
  const view = (offsets: Record<number, number>): CheckpointView => ({
    offsets: new Map(Object.entries(offsets).map(([p, o]) => [Number(p), BigInt(o)])),
    appliedAsOf: new Date(),
  });
  const token = { topic: 'events', offsets: { '0': '10', '2': '9007199254740993' } };

  it('is satisfied when every partition’s checkpoint reaches the token (int64 offsets)', () => {
    expect(shortfalls(view({ 0: 10, 2: 5 }), token)).toEqual([
      { partition: 2, required: '9007199254740993', applied: '5' },
    ]);
    expect(shortfalls(view({ 0: 9 }), token)).toHaveLength(2);
    const exact: CheckpointView = {
      offsets: new Map([
        [0, 10n],
        [2, 9007199254740993n],
      ]),
      appliedAsOf: undefined,
    };
    expect(shortfalls(exact, token)).toEqual([]);
  });

  it('polls until satisfied, and past the deadline fails with a retriable 503', async () => {
    let calls = 0;
    const satisfied = await waitForToken(
      async () => view({ 0: ++calls >= 3 ? 10 : 0, 2: 1e15 }),
      { topic: 'events', offsets: { '0': '10' } },
      {
        deadline: Date.now() + 1_000,
        pollMs: 5,
        maxWaitMs: 1_000,
      },
    );
    expect(calls).toBe(3);
    expect(satisfied.offsets.get(0)).toBe(10n);

    const started = Date.now();
    const timeout = waitForToken(async () => view({}), token, {
      deadline: Date.now() + 50,
      pollMs: 10,
      maxWaitMs: 50,
    });
    await expect(timeout).rejects.toThrow(ConsistencyTimeout);
    await expect(timeout).rejects.toBeInstanceOf(UnavailableError);
    await expect(timeout).rejects.toMatchObject({ status: 503, retryAfterSeconds: 1, isRetriable: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });
});

describe('endpoint errors', () => {
  it('falls back for an endpoint that is unreachable or cannot serve, not for a failing query', () => {
    expect(isStoreUnavailable(new MongoNetworkError('reset'))).toBe(true);
    const backendDown = new MongoServerError({
      message: 'failed to connect to `user=postgres database=ferretdb`: dial error',
      code: 1,
    });
    expect(isStoreUnavailable(backendDown)).toBe(true);
    expect(isStoreUnavailable(new MongoServerSelectionError('no server', { type: 'Unknown' } as never))).toBe(
      true,
    );
    expect(isStoreUnavailable(Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' }))).toBe(
      true,
    );
    expect(isStoreUnavailable(new MongoServerError({ message: 'bad query', code: 2 }))).toBe(false);
    expect(isStoreUnavailable(Object.assign(new Error('no file'), { code: 'ENOENT' }))).toBe(false);
    expect(isStoreUnavailable(new ValidationError('x'))).toBe(false);
  });
});
