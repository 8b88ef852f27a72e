import { MongoInvalidArgumentError, MongoNetworkError, MongoServerError } from 'mongodb';
import { Registry } from 'prom-client';
import { classifyStoreError } from '../../src/adapters/store-errors';
import { StoreRejectedError, StoreUnavailableError, StoreUnknownError } from '../../src/errors';
import { WriterMetrics } from '../../src/plugins/app/metrics';

describe('classifyStoreError', () => {
  it('treats an unreachable store or one that cannot serve as unavailable', () => {
    for (const error of [
      new MongoNetworkError('connection reset'),
      new MongoServerError({ message: 'not primary', code: 10107 }),
      new MongoServerError({ message: 'failed to connect to `user=postgres`: dial error', code: 1 }),
    ]) {
      const classified = classifyStoreError(error);
      expect(classified).toBeInstanceOf(StoreUnavailableError);
      expect(classified.isRetriable).toBe(true);
      expect(classified.cause).toBe(error);
    }
  });

  it('treats unclassified codes and non-driver errors as unknown (bounded retries)', () => {
    for (const error of [
      new MongoServerError({ message: 'something new', code: 424242 }),
      new Error('boom'),
    ]) {
      const classified = classifyStoreError(error);
      expect(classified).toBeInstanceOf(StoreUnknownError);
      expect(classified.isRetriable).toBe(true);
      expect(classified.message).toContain(error.message);
    }
  });

  it("treats the local store's refusal of a string it cannot hold as a refusal", () => {
    const nul = new MongoServerError({
      message: 'ERROR: unsupported Unicode escape sequence (SQLSTATE 22P05)',
      code: 1,
    });
    expect(classifyStoreError(nul)).toBeInstanceOf(StoreRejectedError);
  });

  it('treats refusals of the request itself as permanent', () => {
    const tooLarge = classifyStoreError(
      new MongoInvalidArgumentError('Document is larger than the maximum size'),
    );
    expect(tooLarge).toBeInstanceOf(StoreRejectedError);
    expect(tooLarge.isRetriable).toBe(false);
    const badValue = classifyStoreError(new MongoServerError({ message: 'invalid key', code: 2 }));
    expect(badValue).toBeInstanceOf(StoreRejectedError);
    expect((badValue as StoreRejectedError).code).toBe(2);
  });

  it('passes the writer errors through', () => {
    const error = new StoreUnavailableError('x');
    expect(classifyStoreError(error)).toBe(error);
  });
});

describe('WriterMetrics', () => {
  const value = async (registry: Registry, name: string) =>
    (await registry.getSingleMetric(name)?.get())?.values;

  it('computes lag in messages from the newest end offset and in seconds from the oldest unstored event', async () => {
    const registry = new Registry();
    let now = 10_000;
    const metrics = new WriterMetrics(
      registry,
      async () => new Map([[2, '150']]),
      () => now,
    );
    metrics.progress({
      topic: 't',
      partition: 2,
      highWatermark: '120',
      nextOffset: '100',
      oldestUnstoredMs: 4_000,
    });
    metrics.progress({
      topic: 't',
      partition: 3,
      highWatermark: '7',
      nextOffset: '7',
      oldestUnstoredMs: undefined,
    });

    expect(await value(registry, 'writer_consumer_lag_messages')).toEqual([
      { labels: { topic: 't', partition: '2' }, value: 50 },
      { labels: { topic: 't', partition: '3' }, value: 0 },
    ]);
    now = 12_000;
    expect(await value(registry, 'writer_consumer_lag_seconds')).toEqual([
      { labels: { topic: 't', partition: '2' }, value: 8 },
      { labels: { topic: 't', partition: '3' }, value: 0 },
    ]);

    metrics.retainPartitions({ t: [3] });
    expect((await value(registry, 'writer_consumer_lag_seconds'))?.map((v) => v.labels.partition)).toEqual([
      '3',
    ]);
  });

  it('reports a stalled partition with its reason and duration until it resumes or is reassigned', async () => {
    const registry = new Registry();
    let now = 1_000;
    const metrics = new WriterMetrics(registry, undefined, () => now);
    metrics.stalled('t', 4, 'store-unavailable');
    metrics.stalled('t', 5, 'store-unknown');
    now = 4_000;
    expect(await value(registry, 'writer_partition_stall_seconds')).toEqual([
      { labels: { topic: 't', partition: '4', reason: 'store-unavailable' }, value: 3 },
      { labels: { topic: 't', partition: '5', reason: 'store-unknown' }, value: 3 },
    ]);
    metrics.resumed('t', 5);
    expect(metrics.currentStalls()).toEqual([
      { topic: 't', partition: 4, reason: 'store-unavailable', sinceMs: 1_000 },
    ]);
    metrics.retainPartitions({ t: [5] });
    expect(await value(registry, 'writer_partition_stall_seconds')).toEqual([]);
  });

  it('falls back to the fetched high watermark when end offsets are unavailable', async () => {
    const registry = new Registry();
    const metrics = new WriterMetrics(registry, async () => {
      throw new Error('broker away');
    });
    metrics.progress({
      topic: 't',
      partition: 0,
      highWatermark: '30',
      nextOffset: '10',
      oldestUnstoredMs: 1,
    });
    expect(await value(registry, 'writer_consumer_lag_messages')).toEqual([
      { labels: { topic: 't', partition: '0' }, value: 20 },
    ]);
  });

  it('counts stored, duplicate and dead-lettered events', async () => {
    const registry = new Registry();
    const metrics = new WriterMetrics(registry);
    metrics.stored('t', 5);
    metrics.duplicates('t', 2);
    metrics.duplicates('t', 0);
    metrics.deadLettered('too-large', 1);
    metrics.microBatch(7, 0.02);
    metrics.retry('store events');
    const text = await registry.metrics();
    expect(text).toContain('writer_events_stored_total{topic="t"} 5');
    expect(text).toContain('writer_events_duplicate_total{topic="t"} 2');
    expect(text).toContain('writer_events_dead_lettered_total{reason="too-large"} 1');
    expect(text).toContain('writer_micro_batch_size_count 1');
    expect(text).toContain('writer_retries_total{operation="store events"} 1');
  });
});
