import {
  type CloudEvent,
  cloudEventContentErrors,
  cloudEventErrors,
  EVENT_LIMITS,
  encodeToken,
  type FieldError,
  MAX_REPORTED_ERRORS,
  mergeOffsets,
  PayloadTooLargeError,
  toKafkaMessage,
  ValidationError,
} from '@splitstream/shared';
import type { Message } from 'kafkajs';
import type { WrittenMessage } from './pipeline';

function rejectInvalid(errors: FieldError[], what: string): never {
  const shown = errors.slice(0, MAX_REPORTED_ERRORS);
  const more = errors.length > shown.length ? ` (first ${shown.length} of ${errors.length} shown)` : '';
  const summary = shown
    .slice(0, 3)
    .map((e) => `${e.field} ${e.message}`)
    .join('; ');
  throw new ValidationError(`${what}: ${summary}${more}`, { errors: shown });
}

/**
 * The body of POST /v1/events as a valid CloudEvent, or a 400 naming every bad attribute.
 * `schemaError` is the route schema's verdict: a body it refused is never accepted, even if
 * cloudEventErrors found nothing to name (then the schema's own errors are the answer).
 */
export function parseEvent(body: unknown, schemaError?: Error): CloudEvent {
  // The schema accepted it: only the content rules are left. It refused: name every fault.
  const errors = schemaError ? cloudEventErrors(body) : cloudEventContentErrors(body as CloudEvent);
  if (errors.length > 0) rejectInvalid(errors, 'the event is not a valid CloudEvent');
  if (schemaError) throw schemaError;
  return body as CloudEvent;
}

/** The body of POST /v1/events/batch: 1..1000 valid events, or a 400 naming each bad index and why. */
export function parseBatch(body: unknown, schemaError?: Error): CloudEvent[] {
  if (!Array.isArray(body)) {
    rejectInvalid(
      [{ field: '/', message: 'must be a JSON array of CloudEvents' }],
      'the batch is not an array',
    );
  }
  if (body.length === 0 || body.length > EVENT_LIMITS.maxBatchEvents) {
    rejectInvalid(
      [{ field: '/', message: `must hold 1 to ${EVENT_LIMITS.maxBatchEvents} events (got ${body.length})` }],
      'the batch size is out of range',
    );
  }
  const errors = body.flatMap((event, index) =>
    schemaError ? cloudEventErrors(event, `/${index}`) : cloudEventContentErrors(event, `/${index}`),
  );
  if (errors.length > 0) {
    const bad = new Set(errors.map((e) => e.field.split('/')[1])).size;
    rejectInvalid(errors, `${bad} of ${body.length} events are invalid; the batch was rejected as a whole`);
  }
  if (schemaError) throw schemaError;
  return body as CloudEvent[];
}

/**
 * The Kafka messages of one request, with a missing `time` filled from the ingest clock. Events
 * over the size limit are named (413 as a whole: nothing of the request is written).
 */
export function toMessages(
  tenant: string,
  events: CloudEvent[],
  receivedAt: Date,
  batch: boolean,
): Message[] {
  const time = receivedAt.toISOString();
  const tooLarge: FieldError[] = [];
  const messages = events.map((event, index) => {
    const message = toKafkaMessage(tenant, event.time === undefined ? { ...event, time } : event, receivedAt);
    const bytes = Buffer.byteLength(message.value as string);
    if (bytes > EVENT_LIMITS.maxEventBytes) {
      tooLarge.push({
        field: batch ? `/${index}` : '/',
        message: `is ${bytes} bytes; an event may have at most ${EVENT_LIMITS.maxEventBytes}`,
      });
    }
    return message;
  });
  if (tooLarge.length > 0) {
    throw new PayloadTooLargeError(
      `${tooLarge.length} event(s) exceed ${EVENT_LIMITS.maxEventBytes} bytes: ${tooLarge
        .slice(0, 3)
        .map((e) => e.field)
        .join(', ')}`,
      { errors: tooLarge.slice(0, MAX_REPORTED_ERRORS) },
    );
  }
  return messages;
}

/** The read-your-writes token of a request: per partition, the highest offset it wrote. */
export function tokenOf(topic: string, written: WrittenMessage[]): string {
  const offsets: Record<string, string> = {};
  for (const { partition, offset } of written) mergeOffsets(offsets, partition, offset);
  return encodeToken({ topic, offsets });
}
