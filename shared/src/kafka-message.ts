import type { IHeaders, Message } from 'kafkajs';
import { CLOUDEVENTS_JSON, type CloudEvent, KAFKA_HEADERS, partitionKey } from './event';

/**
 * An accepted event as a Kafka message: CloudEvents Kafka protocol binding, structured mode
 * (the value is the event as JSON), tenant and ingest time as headers. Any consumer can read it.
 */
export function toKafkaMessage(tenant: string, event: CloudEvent, receivedAt: Date): Message {
  return {
    key: partitionKey(tenant, event),
    value: JSON.stringify(event),
    headers: {
      [KAFKA_HEADERS.contentType]: CLOUDEVENTS_JSON,
      [KAFKA_HEADERS.tenant]: tenant,
      [KAFKA_HEADERS.receivedAt]: receivedAt.toISOString(),
    },
  };
}

/** A header's value as a string (kafkajs gives Buffers on the consumer side). */
export function headerString(headers: IHeaders | undefined, name: string): string | undefined {
  const value = headers?.[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}
