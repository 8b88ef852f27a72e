import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FieldError } from './errors';

/** Limits from DESIGN.md "Event model" and "Public API". */
export const EVENT_LIMITS = Object.freeze({
  maxEventBytes: 256 * 1024,
  maxBatchEvents: 1000,
  maxBatchBytes: 1024 * 1024,
  maxIdLength: 128,
  maxTypeLength: 256,
});

/**
 * Fastify `routerOptions.maxParamLength` for routes with an event id in the path: an id is up to 128
 * characters, each up to 4 UTF-8 bytes percent-encoded as 12 characters, and the default (100) would
 * answer 404 for a long id instead of routing it.
 */
export const MAX_EVENT_ID_PARAM_LENGTH = 12 * EVENT_LIMITS.maxIdLength;

/** RFC 3339 date-time (with a mandatory offset), as CloudEvents requires for `time`. */
export const RFC3339_PATTERN =
  '^\\d{4}-\\d{2}-\\d{2}[Tt]\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?([Zz]|[+-]\\d{2}:\\d{2})$';

/** CloudEvents extension attribute names: lower-case letters and digits, at most 20 (spec recommendation). */
export const EXTENSION_NAME_PATTERN = '^[a-z0-9]{1,20}$';
const ExtensionValueSchema = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]);

/** CloudEvents 1.0, JSON structured mode. Extension attributes: lower-case alphanumeric names. */
export const CloudEventSchema = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ minLength: 1, maxLength: EVENT_LIMITS.maxIdLength }),
    source: Type.String({ minLength: 1, maxLength: 2048, pattern: '^\\S+$', description: 'URI-reference' }),
    type: Type.String({ minLength: 1, maxLength: EVENT_LIMITS.maxTypeLength }),
    subject: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    time: Type.Optional(
      Type.String({ pattern: RFC3339_PATTERN, description: 'RFC 3339; filled by ingest when absent' }),
    ),
    datacontenttype: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    dataschema: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    data: Type.Optional(Type.Unknown()),
    data_base64: Type.Optional(Type.String()),
  },
  {
    $id: 'CloudEvent',
    patternProperties: { [EXTENSION_NAME_PATTERN]: ExtensionValueSchema },
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

// TypeBox's checker ignores `patternProperties` (Ajv honours it): with `additionalProperties: false`
// it would reject every extension attribute. Its twin below takes any scalar extra attribute and the
// names are checked by hand, so TypeBox-based code validates exactly what the JSON Schema describes.
const CheckableCloudEvent = TypeCompiler.Compile(
  Type.Object(CloudEventSchema.properties, { additionalProperties: ExtensionValueSchema }),
);
const EXTENSION_NAME = new RegExp(EXTENSION_NAME_PATTERN);
const KNOWN_ATTRIBUTES = new Set(Object.keys(CloudEventSchema.properties));

/**
 * Every fault of `value` as a CloudEvent (per CloudEventSchema), one entry per offending attribute,
 * with JSON-pointer fields under `pointer` (e.g. `/3` for the fourth event of a batch → `/3/source`).
 * Empty when the event is valid. The one validator for ingest, writer and query.
 */
export function cloudEventErrors(value: unknown, pointer = ''): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    const field = `${pointer}${path}` || '/';
    if (seen.has(field)) return;
    seen.add(field);
    errors.push({ field, message });
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    add('', 'must be a CloudEvent (a JSON object)');
    return errors;
  }
  for (const error of CheckableCloudEvent.Errors(value)) {
    const name = error.path.split('/')[1] ?? '';
    const isExtension = name !== '' && !KNOWN_ATTRIBUTES.has(name);
    add(
      error.path,
      isExtension ? 'extension attributes must be a string, number, boolean or null' : error.message,
    );
  }
  for (const name of Object.keys(value)) {
    if (!KNOWN_ATTRIBUTES.has(name) && !EXTENSION_NAME.test(name)) {
      add(
        `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        'is not a valid extension attribute name (1-20 lower-case letters or digits)',
      );
    }
  }
  return errors;
}
