import {
  type CloudEvent,
  cloudEventErrors,
  DEAD_LETTER_REASONS,
  type DeadLetterRecord,
  EVENT_LIMITS,
  type FieldError,
  KAFKA_HEADERS,
  REPLAY_OF_HEADER,
  toKafkaMessage,
} from '@splitstream/shared';
import type { Message } from 'kafkajs';

/** Where a dead letter sits, without its (possibly large) value: what a selection returns. */
export type DeadLetterPosition = Pick<
  DeadLetterRecord,
  '_id' | 'deadLetteredAt' | 'topic' | 'partition' | 'offset'
>;

export interface SkippedDeadLetter {
  deadLetterId: string;
  id?: string;
  reason: string;
  errors?: FieldError[];
}

/** Validation faults listed per skipped dead letter. */
const MAX_SKIP_ERRORS = 10;
/** `code: detail` codes of a skip that are not dead-letter reasons. */
export const SKIP_REASONS = Object.freeze({ tenantMismatch: 'tenant-mismatch' });

export type PlannedReplay =
  | { ok: true; deadLetterId: string; eventId: string; message: Message; bytes: number }
  | { ok: false; skipped: SkippedDeadLetter };

function skip(record: DeadLetterRecord, code: string, detail: string, errors?: FieldError[]): PlannedReplay {
  return {
    ok: false,
    skipped: {
      deadLetterId: record._id,
      ...(record.id !== undefined ? { id: record.id } : {}),
      reason: `${code}: ${detail}`,
      ...(errors && errors.length > 0 ? { errors: errors.slice(0, MAX_SKIP_ERRORS) } : {}),
    },
  };
}

/**
 * A dead letter as the message a POST of its original event would have produced (shared
 * toKafkaMessage: key, content type, tenant and the original receipt time), plus the replay-of
 * header; or why it cannot be replayed (it then stays dead, unmarked).
 */
export function planReplay(record: DeadLetterRecord, tenant: string, now: Date): PlannedReplay {
  // The selection filters by tenant already; this keeps a record of another tenant out even if it did not.
  if (record.tenant !== tenant) {
    return skip(record, SKIP_REASONS.tenantMismatch, 'the dead letter belongs to another tenant');
  }
  if (typeof record.value !== 'string' || record.value.length === 0) {
    return skip(record, DEAD_LETTER_REASONS.undecodable, 'the dead letter has no text value');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.value);
  } catch (error) {
    return skip(record, DEAD_LETTER_REASONS.undecodable, `value is not JSON (${(error as Error).message})`);
  }
  const errors = cloudEventErrors(parsed);
  if (errors.length > 0) {
    const detail = errors
      .slice(0, 3)
      .map((e) => `${e.field} ${e.message}`)
      .join('; ');
    return skip(record, DEAD_LETTER_REASONS.invalidEvent, `still not a valid CloudEvent: ${detail}`, errors);
  }
  const event = parsed as CloudEvent;
  const header = record.headers?.[KAFKA_HEADERS.receivedAt];
  const original = header === undefined ? Number.NaN : Date.parse(header);
  const receivedAt = Number.isNaN(original) ? now : new Date(original);
  const base = toKafkaMessage(
    tenant,
    event.time === undefined ? { ...event, time: receivedAt.toISOString() } : event,
    receivedAt,
  );
  const bytes = Buffer.byteLength(base.value as string);
  if (bytes > EVENT_LIMITS.maxEventBytes) {
    return skip(
      record,
      DEAD_LETTER_REASONS.tooLarge,
      `the event is ${bytes} bytes; an event may have at most ${EVENT_LIMITS.maxEventBytes}`,
    );
  }
  const message: Message = {
    ...base,
    headers: { ...base.headers, [REPLAY_OF_HEADER]: record._id },
  };
  return { ok: true, deadLetterId: record._id, eventId: event.id, message, bytes };
}

/**
 * Original order: by dead-letter time, then by where the original was in Kafka (numerically: the
 * stored `_id` orders offsets as text), so events of one key are re-produced in their order.
 */
export function replayOrder(a: DeadLetterPosition, b: DeadLetterPosition): number {
  const byTime = a.deadLetteredAt.getTime() - b.deadLetteredAt.getTime();
  if (byTime !== 0) return byTime;
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.partition !== b.partition) return a.partition - b.partition;
  const [x, y] = [BigInt(a.offset), BigInt(b.offset)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** A replayable plan. */
export type ReplayablePlan = Extract<PlannedReplay, { ok: true }>;

/** Planned messages in sends no larger than one batch request (the pipeline's budget holds two). */
export function* sends(planned: ReplayablePlan[]) {
  let current: ReplayablePlan[] = [];
  let bytes = 0;
  for (const p of planned) {
    if (
      current.length > 0 &&
      (current.length >= EVENT_LIMITS.maxBatchEvents || bytes + p.bytes > EVENT_LIMITS.maxBatchBytes)
    ) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += p.bytes;
  }
  if (current.length > 0) yield current;
}
