import { metricsIn } from '@splitstream/shared';
import type { Counter, Histogram, Registry } from 'prom-client';
import type { BatchObserver, PartitionProgress, StallReason } from '../../domain/ports';
import type { HeartbeatObserver } from './applied-heartbeat';

/** Latest end offsets of a topic by partition, for lag while the writer is stuck on a batch. */
export type EndOffsets = (topic: string) => Promise<Map<number, string>>;

const MICRO_BATCH_SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000];
const WRITE_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ARRIVAL_SECONDS_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** A partition not advancing, since when and why. */
export interface PartitionStall {
  topic: string;
  partition: number;
  reason: StallReason;
  sinceMs: number;
}

/**
 * The writer's Prometheus metrics. Lag is computed at scrape time from each owned partition's
 * progress: in messages (end offset − next offset to store) and in seconds (age of the oldest
 * event not stored yet), so both keep growing while a write is being retried.
 */
export class WriterMetrics implements BatchObserver, HeartbeatObserver {
  private readonly partitions = new Map<string, PartitionProgress>();
  private readonly stalls = new Map<string, PartitionStall>();
  private readonly storedTotal: Counter<'topic'>;
  private readonly duplicateTotal: Counter<'topic'>;
  private readonly deadLetteredTotal: Counter<'reason'>;
  private readonly retryTotal: Counter<'operation'>;
  private readonly batchSize: Histogram;
  private readonly writeSeconds: Histogram;
  private readonly heartbeatTotal: Counter<'outcome'>;
  private readonly arrivalSeconds: Histogram;
  private readonly rollupsRefusedTotal: Counter<'topic'>;

  constructor(
    registry: Registry,
    private readonly endOffsets?: EndOffsets,
    private readonly now: () => number = Date.now,
  ) {
    const { counter, gauge, histogram } = metricsIn(registry);
    this.storedTotal = counter('writer_events_stored_total', 'Events inserted into the store', ['topic']);
    this.duplicateTotal = counter(
      'writer_events_duplicate_total',
      'Events already stored (same tenant, source, id): no-ops',
      ['topic'],
    );
    this.deadLetteredTotal = counter(
      'writer_events_dead_lettered_total',
      'Events sent to the dead-letter topic, by reason code',
      ['reason'],
    );
    this.retryTotal = counter(
      'writer_retries_total',
      'Retriable failures retried with backoff, by operation',
      ['operation'],
    );
    this.batchSize = histogram(
      'writer_micro_batch_size',
      'Messages per micro-batch (one bulk write each)',
      MICRO_BATCH_SIZE_BUCKETS,
    );
    this.writeSeconds = histogram(
      'writer_write_duration_seconds',
      'Time to store one micro-batch (bulk insert, dead letters, rollup counts, checkpoint)',
      WRITE_SECONDS_BUCKETS,
    );
    this.arrivalSeconds = histogram(
      'writer_arrival_to_stored_seconds',
      "From ingest's receipt of an event (receivedAt) to it stored and checkpointed on the primary; " +
        'readable on the replica once replicated (query_replica_staleness_seconds bounds that)',
      ARRIVAL_SECONDS_BUCKETS,
    );
    this.rollupsRefusedTotal = counter(
      'writer_rollups_refused_total',
      'Stored events whose rollup counts the store refused for good: stats miss them',
      ['topic'],
    );
    this.heartbeatTotal = counter(
      'writer_applied_heartbeats_total',
      'Applied heartbeats (caught-up partitions marked applied as of now), by outcome',
      ['outcome'],
    );
    gauge(
      'writer_consumer_lag_messages',
      'Messages not stored yet, per owned partition',
      ['topic', 'partition'],
      async (lag) => {
        for (const [key, value] of await this.lag()) lag.set(key, value.messages);
      },
    );
    gauge(
      'writer_partition_stall_seconds',
      'How long an owned partition has not advanced because an operation keeps failing, by reason (absent while it flows)',
      ['topic', 'partition', 'reason'],
      (stalled) => {
        for (const stall of this.stalls.values()) {
          const labels = { topic: stall.topic, partition: String(stall.partition), reason: stall.reason };
          stalled.set(labels, (this.now() - stall.sinceMs) / 1000);
        }
      },
    );
    gauge(
      'writer_consumer_lag_seconds',
      'Age of the oldest event not stored yet, per owned partition (0 when caught up)',
      ['topic', 'partition'],
      (age) => {
        for (const progress of this.partitions.values()) {
          const seconds =
            progress.oldestUnstoredMs === undefined ? 0 : (this.now() - progress.oldestUnstoredMs) / 1000;
          age.set({ topic: progress.topic, partition: String(progress.partition) }, Math.max(0, seconds));
        }
      },
    );
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

  arrivalToStored(seconds: number[]): void {
    for (const value of seconds) this.arrivalSeconds.observe(Math.max(0, value));
  }

  heartbeat(outcome: 'ok' | 'failed'): void {
    this.heartbeatTotal.inc({ outcome });
  }

  rollupsRefused(topic: string, count: number): void {
    this.rollupsRefusedTotal.inc({ topic }, count);
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
