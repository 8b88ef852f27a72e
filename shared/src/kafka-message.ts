import type { IHeaders, Message } from 'kafkajs';
import type { CloudEvent } from './event';

/** Kafka message headers (CloudEvents Kafka binding, structured mode, plus ours). */
export const KAFKA_HEADERS = Object.freeze({
  contentType: 'content-type',
  tenant: 'splitstream-tenant',
  receivedAt: 'splitstream-received-at',
});
export const CLOUDEVENTS_JSON = 'application/cloudevents+json';

/** An event's identity within a tenant: (source, id), as CloudEvents defines it. */
export function identityKey(tenant: string, source: string, id: string): string {
  return JSON.stringify([tenant, source, id]);
}

/** Kafka message key: order is kept per (tenant, subject); events without subject spread by identity. */
export function partitionKey(tenant: string, event: Pick<CloudEvent, 'subject' | 'source' | 'id'>): string {
  return event.subject !== undefined ? `${tenant}/${event.subject}` : `${tenant}/${event.source}/${event.id}`;
}

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
