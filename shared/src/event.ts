import { type Static, Type } from '@sinclair/typebox';

/** Limits from DESIGN.md "Event model" and "Public API". */
export const EVENT_LIMITS = Object.freeze({
  maxEventBytes: 256 * 1024,
  maxBatchEvents: 1000,
  maxBatchBytes: 1024 * 1024,
  maxIdLength: 128,
  maxTypeLength: 256,
});

/** RFC 3339 date-time (with a mandatory offset), as CloudEvents requires for `time`. */
export const RFC3339_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$';

/** CloudEvents 1.0, JSON structured mode. Extension attributes: lower-case alphanumeric names. */
export const CloudEventSchema = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ minLength: 1, maxLength: EVENT_LIMITS.maxIdLength }),
    source: Type.String({ minLength: 1, maxLength: 2048, pattern: '^\\S+$', description: 'URI-reference' }),
    type: Type.String({ minLength: 1, maxLength: EVENT_LIMITS.maxTypeLength }),
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    time: Type.Optional(Type.String({ pattern: RFC3339_PATTERN, description: 'RFC 3339; filled by ingest when absent' })),
    datacontenttype: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    dataschema: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    data: Type.Optional(Type.Unknown()),
    data_base64: Type.Optional(Type.String()),
  },
  {
    $id: 'CloudEvent',
    patternProperties: {
      '^[a-z0-9]{1,20}$': Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
    },
    additionalProperties: false,
    examples: [
      {
        specversion: '1.0',
        id: 'b7a8f0c2-1',
        source: '/shop/checkout',
        type: 'com.example.order.created',
        subject: 'order-1042',
        time: '2026-11-26T10:00:00Z',
        datacontenttype: 'application/json',
        data: { orderId: 1042, total: 99.5 },
      },
    ],
  },
);
export type CloudEvent = Static<typeof CloudEventSchema>;

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
