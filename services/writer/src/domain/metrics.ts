import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BatchObserver, PartitionProgress, StallReason } from './batch-handler';

/** Latest end offsets of a topic by partition, for lag while the writer is stuck on a batch. */
export type EndOffsets = (topic: string) => Promise<Map<number, string>>;

/**
 * The writer's Prometheus metrics. Lag is computed at scrape time from each owned partition's
 * progress: in messages (end offset − next offset to store) and in seconds (age of the oldest
 * event not stored yet), so both keep growing while a write is being retried.
 */
export interface PartitionStall {
  topic: string;
  partition: number;
  reason: StallReason;
  sinceMs: number;
}

export class WriterMetrics implements BatchObserver {
  private readonly partitions = new Map<string, PartitionProgress>();
  private readonly stalls = new Map<string, PartitionStall>();
  private readonly storedTotal: Counter<'topic'>;
  private readonly duplicateTotal: Counter<'topic'>;
  private readonly deadLetteredTotal: Counter<'reason'>;
  private readonly retryTotal: Counter<'operation'>;
  private readonly batchSize: Histogram;
  private readonly writeSeconds: Histogram;

  constructor(
    registry: Registry,
    private readonly endOffsets?: EndOffsets,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry];
    this.storedTotal = new Counter({
      name: 'writer_events_stored_total',
      help: 'Events inserted into the store',
      labelNames: ['topic'],
      registers,
    });
    this.duplicateTotal = new Counter({
      name: 'writer_events_duplicate_total',
      help: 'Events already stored (same tenant, source, id): no-ops',
      labelNames: ['topic'],
      registers,
    });
    this.deadLetteredTotal = new Counter({
      name: 'writer_events_dead_lettered_total',
      help: 'Events sent to the dead-letter topic, by reason code',
      labelNames: ['reason'],
      registers,
    });
    this.retryTotal = new Counter({
      name: 'writer_retries_total',
      help: 'Retriable failures retried with backoff, by operation',
      labelNames: ['operation'],
      registers,
    });
    this.batchSize = new Histogram({
      name: 'writer_micro_batch_size',
      help: 'Messages per micro-batch (one bulk write each)',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000],
      registers,
    });
    this.writeSeconds = new Histogram({
      name: 'writer_write_duration_seconds',
      help: 'Time to store one micro-batch (bulk insert, dead letters, checkpoint)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const self = this;
    new Gauge({
      name: 'writer_consumer_lag_messages',
      help: 'Messages not stored yet, per owned partition',
      labelNames: ['topic', 'partition'],
      registers,
      async collect() {
        this.reset();
        for (const [key, value] of await self.lag()) this.set(key, value.messages);
      },
    });
    new Gauge({
      name: 'writer_partition_stall_seconds',
      help: 'How long an owned partition has not advanced because an operation keeps failing, by reason (absent while it flows)',
      labelNames: ['topic', 'partition', 'reason'],
      registers,
      collect() {
        this.reset();
        for (const stall of self.stalls.values()) {
          const labels = { topic: stall.topic, partition: String(stall.partition), reason: stall.reason };
          this.set(labels, (self.now() - stall.sinceMs) / 1000);
        }
      },
    });
    new Gauge({
      name: 'writer_consumer_lag_seconds',
      help: 'Age of the oldest event not stored yet, per owned partition (0 when caught up)',
      labelNames: ['topic', 'partition'],
      registers,
      collect() {
        this.reset();
        for (const progress of self.partitions.values()) {
          const age =
            progress.oldestUnstoredMs === undefined ? 0 : (self.now() - progress.oldestUnstoredMs) / 1000;
          this.set({ topic: progress.topic, partition: String(progress.partition) }, Math.max(0, age));
        }
      },
    });
  }

  stalled(topic: string, partition: number, reason: StallReason): void {
    this.stalls.set(`${topic}/${partition}`, { topic, partition, reason, sinceMs: this.now() });
  }

  resumed(topic: string, partition: number): void {
    this.stalls.delete(`${topic}/${partition}`);
  }

  /** Partitions that are not advancing right now, for /readyz. */
  currentStalls(): PartitionStall[] {
    return [...this.stalls.values()];
  }

  stored(topic: string, count: number): void {
    if (count > 0) this.storedTotal.inc({ topic }, count);
  }

  duplicates(topic: string, count: number): void {
    if (count > 0) this.duplicateTotal.inc({ topic }, count);
  }

  deadLettered(reason: string, count: number): void {
    this.deadLetteredTotal.inc({ reason }, count);
  }

  microBatch(size: number, writeSeconds: number): void {
    this.batchSize.observe(size);
    this.writeSeconds.observe(writeSeconds);
  }

  retry(operation: string): void {
    this.retryTotal.inc({ operation });
  }

  progress(progress: PartitionProgress): void {
    this.partitions.set(`${progress.topic}/${progress.partition}`, progress);
  }

  /** Forgets partitions this instance no longer owns (after a rebalance). */
  retainPartitions(assignment: Record<string, number[]>): void {
    for (const map of [this.partitions, this.stalls]) {
      for (const [key, { topic, partition }] of map) {
        if (!assignment[topic]?.includes(partition)) map.delete(key);
      }
    }
  }

  private async lag() {
    const byTopic = new Map<string, Map<number, string>>();
    for (const topic of new Set([...this.partitions.values()].map((p) => p.topic))) {
      try {
        if (this.endOffsets) byTopic.set(topic, await this.endOffsets(topic));
      } catch {
        // The broker may be the thing that is down: the last fetched high watermark stands in.
      }
    }
    return [...this.partitions.values()].map((progress) => {
      const fetched = byTopic.get(progress.topic)?.get(progress.partition);
      const high = [progress.highWatermark, fetched ?? '0'].map(BigInt).reduce((a, b) => (a > b ? a : b));
      const messages = high - BigInt(progress.nextOffset);
      return [
        { topic: progress.topic, partition: String(progress.partition) },
        { messages: Number(messages > 0n ? messages : 0n) },
      ] as const;
    });
  }
}
