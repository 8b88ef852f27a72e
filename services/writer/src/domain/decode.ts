import {
  type CloudEvent,
  cloudEventErrors,
  DEAD_LETTER_REASONS,
  type DeadLetterReasonCode,
  deadLetterReason,
  headerString,
  KAFKA_HEADERS,
  type StoredEvent,
  toStoredEvent,
} from '@splitstream/shared';
import type { KafkaMessage } from 'kafkajs';

/** A message that can never be stored, with what could be read of it. */
export interface DeadLetter {
  topic: string;
  partition: number;
  message: KafkaMessage;
  /** `code: detail` (shared DEAD_LETTER_REASONS). */
  reason: string;
  tenant?: string;
  id?: string;
  source?: string;
  type?: string;
}

export type Decoded = { ok: true; doc: StoredEvent } | { ok: false; deadLetter: DeadLetter };

export interface DecodeContext {
  topic: string;
  partition: number;
  maxEventBytes: number;
  now: Date;
}

const MAX_REPORTED_ERRORS = 3;

/** Turns a Kafka message (CloudEvents structured mode, tenant header) into the document to store. */
export function decodeMessage(message: KafkaMessage, context: DecodeContext): Decoded {
  const { topic, partition } = context;
  const tenant = headerString(message.headers, KAFKA_HEADERS.tenant);
  const reject = (code: DeadLetterReasonCode, detail: string, event?: Record<string, unknown>): Decoded => ({
    ok: false,
    deadLetter: {
      topic,
      partition,
      message,
      reason: deadLetterReason(code, detail),
      ...(tenant ? { tenant } : {}),
      ...identityOf(event),
    },
  });

  if (message.value === null || message.value.length === 0) {
    return reject(DEAD_LETTER_REASONS.undecodable, 'message has no value');
  }
  // Parsed before the size check so that a too-large event is still dead-lettered with its
  // identity: status lookups and replay filters find it by id, source and type.
  let parsed: unknown;
  let parseError: Error | undefined;
  try {
    parsed = JSON.parse(message.value.toString('utf8'));
  } catch (error) {
    parseError = error as Error;
  }
  const attributes = isRecord(parsed) ? parsed : undefined;
  if (message.value.length > context.maxEventBytes) {
    return reject(
      DEAD_LETTER_REASONS.tooLarge,
      `value is ${message.value.length} bytes, more than the ${context.maxEventBytes} bytes stored`,
      attributes,
    );
  }
  if (parseError) {
    return reject(DEAD_LETTER_REASONS.undecodable, `value is not JSON (${parseError.message})`);
  }
  // The shared validator: CloudEventSchema with extension attributes honoured (TypeBox alone rejects them).
  const problems = cloudEventErrors(parsed);
  if (problems.length > 0) {
    const detail = problems.slice(0, MAX_REPORTED_ERRORS).map((e) => `${e.field} ${e.message}`);
    return reject(
      DEAD_LETTER_REASONS.invalidEvent,
      `not a valid CloudEvent: ${detail.join('; ')}`,
      attributes,
    );
  }
  if (!tenant) {
    return reject(DEAD_LETTER_REASONS.missingTenant, `header ${KAFKA_HEADERS.tenant} is absent`, attributes);
  }
  const event = parsed as CloudEvent;
  const receivedAt = receivedAtOf(message);
  return {
    ok: true,
    doc: toStoredEvent({
      tenant,
      // Ingest always sets `time`; another producer may not: its receipt time stands in.
      event: { ...event, time: event.time ?? receivedAt.toISOString() },
      receivedAt,
      topic,
      partition,
      offset: message.offset,
      storedAt: context.now,
    }),
  };
}

/** Ingest's clock from the header; for messages of other producers, the Kafka timestamp. */
function receivedAtOf(message: KafkaMessage): Date {
  const header = headerString(message.headers, KAFKA_HEADERS.receivedAt);
  const fromHeader = header === undefined ? Number.NaN : Date.parse(header);
  return new Date(Number.isNaN(fromHeader) ? Number(message.timestamp) : fromHeader);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function identityOf(event: Record<string, unknown> | undefined): Pick<DeadLetter, 'id' | 'source' | 'type'> {
  const pick = (name: string) => {
    const value = event?.[name];
    return typeof value === 'string' && value.length > 0 ? value : undefined;
  };
  const id = pick('id');
  const source = pick('source');
  const type = pick('type');
  return { ...(id ? { id } : {}), ...(source ? { source } : {}), ...(type ? { type } : {}) };
}
