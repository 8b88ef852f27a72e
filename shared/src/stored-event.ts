import type { CloudEvent } from './event';
import { identityKey } from './kafka-message';

/**
 * The document the writer stores and the query service reads (collection `events`).
 * The CloudEvent is kept as ingested under `event`; the top-level copies exist for indexes
 * and filters, so no client attribute name can collide with ours.
 */
export interface StoredEvent {
  /** identityKey(tenant, source, id): the unique key that makes redelivery a no-op. */
  _id: string;
  tenant: string;
  id: string;
  source: string;
  type: string;
  subject?: string;
  /** Event time (ingest fills a missing `time`), as a BSON date for range filters and sorting. */
  time: Date;
  /** UTC truncations of `time` for stats grouping (the local store has no `$dateTrunc`). */
  buckets: { minute: string; hour: string; day: string };
  event: CloudEvent;
  receivedAt: Date;
  storedAt: Date;
  topic: string;
  partition: number;
  /** Kafka offset as a decimal string (int64). */
  offset: string;
}

/** Per-partition progress of the writer (collection `checkpoints`): every offset ≤ `offset` is stored. */
export interface Checkpoint {
  /** `${topic}/${partition}` */
  _id: string;
  topic: string;
  partition: number;
  /** Last stored offset, decimal string ('-1' when the partition had nothing to store). */
  offset: string;
  updatedAt: Date;
  /**
   * Every event of the partition accepted (Kafka timestamp) before this time is stored. The writer
   * moves it with each batch and, while the partition is caught up, once a heartbeat interval even
   * when nothing arrives; the read side derives its staleness bound from it.
   */
  appliedAsOf?: Date;
}

export function checkpointId(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

export function timeBuckets(time: Date): StoredEvent['buckets'] {
  const iso = time.toISOString(); // 2026-11-26T10:15:42.123Z
  return { minute: `${iso.slice(0, 16)}Z`, hour: `${iso.slice(0, 13)}:00Z`, day: iso.slice(0, 10) };
}

export interface StoredEventInput {
  tenant: string;
  event: CloudEvent & { time: string };
  receivedAt: Date;
  topic: string;
  partition: number;
  offset: string;
  storedAt?: Date;
}

export function toStoredEvent(input: StoredEventInput): StoredEvent {
  const { tenant, event } = input;
  const time = new Date(event.time);
  return {
    _id: identityKey(tenant, event.source, event.id),
    tenant,
    id: event.id,
    source: event.source,
    type: event.type,
    ...(event.subject !== undefined ? { subject: event.subject } : {}),
    time,
    buckets: timeBuckets(time),
    event,
    receivedAt: input.receivedAt,
    storedAt: input.storedAt ?? new Date(),
    topic: input.topic,
    partition: input.partition,
    offset: input.offset,
  };
}
