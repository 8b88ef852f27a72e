import type { Filter, Sort } from 'mongodb';
import { afterPosition, type KeysetPosition, ORDER, type Order } from './cursor';
import { rangeFilter, type TimeRange } from './time-range';

/**
 * Dead letters: events the writer can never store. Each one goes to the dead-letter topic (the
 * original key, value and headers plus the headers below) and is recorded in the store's
 * `deadletters` collection, so the query service can answer an event's status and list or replay them.
 */

/** Headers the writer adds to a dead-lettered Kafka message, next to the original ones. */
export const DEAD_LETTER_HEADERS = Object.freeze({
  reason: 'splitstream-dlq-reason',
  topic: 'splitstream-dlq-topic',
  partition: 'splitstream-dlq-partition',
  offset: 'splitstream-dlq-offset',
});

/** On a message ingest re-produced from a dead letter (replay): that dead letter's id, for tracing. */
export const REPLAY_OF_HEADER = 'splitstream-replay-of';

/** Why an event was dead-lettered: the code prefixes the human-readable `reason` (`code: detail`). */
export const DEAD_LETTER_REASONS = Object.freeze({
  /** The Kafka value is absent or not JSON. */
  undecodable: 'undecodable',
  /** The value is JSON but not a valid CloudEvent. */
  invalidEvent: 'invalid-event',
  /** The `splitstream-tenant` header is absent: no tenant can own the event. */
  missingTenant: 'missing-tenant',
  /** The event exceeds the size the store accepts. */
  tooLarge: 'too-large',
  /** The store refused the document permanently (e.g. a field name it does not allow). */
  rejectedByStore: 'rejected-by-store',
});
export type DeadLetterReasonCode = (typeof DEAD_LETTER_REASONS)[keyof typeof DEAD_LETTER_REASONS];

/** A document of the `deadletters` collection. */
export interface DeadLetterRecord {
  /** deadLetterId(topic, partition, offset): a redelivered poison message is recorded once. */
  _id: string;
  /** Present when the tenant header was readable. */
  tenant?: string;
  /** Present when the value parsed far enough to show them. */
  id?: string;
  source?: string;
  type?: string;
  /** `code: detail`, the code one of DEAD_LETTER_REASONS. */
  reason: string;
  deadLetteredAt: Date;
  /** Where the message was read from. */
  topic: string;
  partition: number;
  /** Kafka offset, decimal string. */
  offset: string;
  /** The original message key, or null. */
  key: string | null;
  /** The original headers as strings. */
  headers: Record<string, string>;
  /** The original value as a (UTF-8) string, or null when it had none. */
  value: string | null;
  /**
   * Set by ingest's replay once Kafka acknowledged the re-produced event (absent: never replayed).
   * A replay leaves replayed records out unless asked to include them.
   */
  replayedAt?: Date;
  /** Where the replayed copy was written. */
  replayedTo?: { topic: string; partition: number; offset: string };
}

export function deadLetterId(topic: string, partition: number, offset: string): string {
  return `${topic}/${partition}/${offset}`;
}

/** `code: detail` as stored in DeadLetterRecord.reason and the reason header. */
export function deadLetterReason(code: DeadLetterReasonCode, detail: string): string {
  return `${code}: ${detail}`;
}

/** Which of a tenant's dead letters a list or a replay means: every value validated, none an operator. */
export interface DeadLetterSelection {
  tenant: string;
  ids?: string[];
  source?: string;
  type?: string;
  reason?: DeadLetterReasonCode;
  range?: TimeRange;
  /** Keyset position: only dead letters after it, in `order`. */
  after?: KeysetPosition;
  /** Default ascending (oldest first). */
  order?: Order;
  /** Default: replayed ones too. */
  replayed?: 'exclude' | 'include' | 'only';
}

/**
 * The store filter of a selection. The tenant equality comes first (FerretDB pushes equality down,
 * and it is the prefix of the `tenant_time` index); a record whose tenant could not be read matches
 * no tenant's selection.
 */
export function deadLetterFilter(selection: DeadLetterSelection): Filter<DeadLetterRecord> {
  const filter: Record<string, unknown> = { tenant: selection.tenant };
  if (selection.ids) filter.id = { $in: selection.ids };
  if (selection.source !== undefined) filter.source = selection.source;
  if (selection.type !== undefined) filter.type = selection.type;
  // `reason` is `code: detail`; the code is one of a fixed set of [a-z-] words (no regex metacharacters).
  if (selection.reason !== undefined) filter.reason = { $regex: `^${selection.reason}:` };
  const and: Record<string, unknown>[] = [];
  const time = selection.range && rangeFilter(selection.range);
  if (time) and.push({ deadLetteredAt: time });
  if (selection.after)
    and.push(afterPosition('deadLetteredAt', selection.after, selection.order ?? ORDER.asc));
  if (selection.replayed === 'exclude') and.push({ replayedAt: { $exists: false } });
  if (selection.replayed === 'only') and.push({ replayedAt: { $exists: true } });
  if (and.length > 0) filter.$and = and;
  return filter as Filter<DeadLetterRecord>;
}

/** The keyset order of dead-letter lists: (deadLetteredAt, _id). */
export function deadLetterSort(order: Order = ORDER.asc): Sort {
  const direction = order === ORDER.asc ? 1 : -1;
  return { deadLetteredAt: direction, _id: direction };
}

/** The keyset position of a dead letter in its lists. */
export function deadLetterPosition(record: Pick<DeadLetterRecord, '_id' | 'deadLetteredAt'>): KeysetPosition {
  return { time: record.deadLetteredAt, id: record._id };
}
