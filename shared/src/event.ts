import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { FieldError } from './errors';
import { DATA_DESCRIPTION, dataErrors, fieldErrors, pointerSegment, UNPAIRED_SURROGATE } from './event-data';

export { DATA_DESCRIPTION, DATA_LIMITS } from './event-data';

/** Limits of the event model and the public API (the OpenAPI document states them). */
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

// Calendar-exact RFC 3339 pieces: the document must describe exactly what is accepted, so an
// impossible date (February 30th, month 13) fails the pattern instead of passing it and being refused
// later. Years 0001..9998, so that with any offset the instant is a 0000..9999 UTC date, which answers
// can give back in RFC 3339 (toISOString writes other years as +010000 or -000001). [0-9] rather
// than \\d: Rust's regex (schemathesis validates with jsonschema-rs) reads \\d as any Unicode digit.
const YEAR = '(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])';
const DAY_OF_MONTH =
  '(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))';
/** February 29th of a Gregorian leap year (divisible by 4 and not by 100, or by 400) in that range. */
const LEAP_DAY = '(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29';
const TIME_OF_DAY = '(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?';
const UTC_OFFSET = '(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])';

/**
 * RFC 3339 date-time with a mandatory offset, as CloudEvents requires for `time`: real calendar
 * dates of years 0001..9998 only, no leap second (JavaScript dates have none), up to nanoseconds
 * (kept as milliseconds).
 */
export const RFC3339_PATTERN = `^(?:${YEAR}-${DAY_OF_MONTH}|${LEAP_DAY})[Tt]${TIME_OF_DAY}${UTC_OFFSET}$`;
export const RFC3339_DESCRIPTION =
  'RFC 3339 date-time with an offset (Z or ±hh:mm): a real calendar date of a year 0001 to 9998, no leap second';

/**
 * CloudEvents' String type excludes control characters (U+0000-U+001F, U+007F-U+009F) and
 * surrogates not used in pairs. The pattern says the first part: it is written so that ECMAScript
 * with or without the `u` flag (TypeBox compiles without it, Ajv with it), Python and Rust (the two
 * halves of schemathesis) read it alike, and Rust's regex cannot name a surrogate at all, so unpaired
 * surrogates are refused by cloudEventErrors and said in ATTRIBUTE_STRING_DESCRIPTION instead.
 * `extra` excludes more (white space for `source`).
 */
const attributeChars = (extra = '') => `[^${extra}\\u0000-\\u001f\\u007f-\\u009f]`;
/**
 * ECMAScript's `\\s` minus the control characters already excluded, spelled out: Python (with
 * re.ASCII, as schemathesis compiles) and Rust read `\\s` differently from ECMAScript and each other.
 */
const WHITE_SPACE = ' \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff';
/** A CloudEvents String attribute value (see attributeChars). */
export const ATTRIBUTE_STRING_PATTERN = `^${attributeChars()}*$`;
export const ATTRIBUTE_STRING_DESCRIPTION =
  'CloudEvents String: no control characters (U+0000-U+001F, U+007F-U+009F) and no unpaired UTF-16 surrogates';
const ATTRIBUTE_STRING = new RegExp(ATTRIBUTE_STRING_PATTERN);
const ATTRIBUTE_STRING_MESSAGE =
  'must not hold control characters (U+0000-U+001F, U+007F-U+009F) or unpaired surrogates (CloudEvents String)';
const ExtensionValueSchema = Type.Union([
  Type.String({ pattern: ATTRIBUTE_STRING_PATTERN, description: ATTRIBUTE_STRING_DESCRIPTION }),
  Type.Number(),
  Type.Boolean(),
  Type.Null(),
]);
const attribute = (options: { minLength?: number; maxLength?: number } = {}) =>
  Type.String({ ...options, pattern: ATTRIBUTE_STRING_PATTERN, description: ATTRIBUTE_STRING_DESCRIPTION });

/** The attributes CloudEvents 1.0 defines (JSON structured mode). */
const CLOUD_EVENT_ATTRIBUTES = {
  specversion: Type.Literal('1.0'),
  id: attribute({ minLength: 1, maxLength: EVENT_LIMITS.maxIdLength }),
  source: Type.String({
    minLength: 1,
    maxLength: 2048,
    pattern: `^${attributeChars(WHITE_SPACE)}+$`,
    description: `URI-reference: no white space; ${ATTRIBUTE_STRING_DESCRIPTION}`,
  }),
  type: attribute({ minLength: 1, maxLength: EVENT_LIMITS.maxTypeLength }),
  subject: Type.Optional(attribute({ minLength: 1, maxLength: 1024 })),
  time: Type.Optional(
    Type.String({
      pattern: RFC3339_PATTERN,
      description: `${RFC3339_DESCRIPTION}; filled by ingest when absent`,
    }),
  ),
  datacontenttype: Type.Optional(attribute({ minLength: 1, maxLength: 256 })),
  dataschema: Type.Optional(attribute({ minLength: 1, maxLength: 2048 })),
  data: Type.Optional(Type.Unknown({ description: DATA_DESCRIPTION })),
  data_base64: Type.Optional(attribute()),
};

/**
 * CloudEvents extension attribute names: lower-case letters and digits, at most 20 (spec
 * recommendation), other than a defined attribute's (in JSON Schema a pattern property applies to
 * every matching name, so without the exclusion `data` would have to be a scalar).
 */
export const EXTENSION_NAME_PATTERN = `^(?!(?:${Object.keys(CLOUD_EVENT_ATTRIBUTES).join('|')})$)[a-z0-9]{1,20}$`;

/** CloudEvents 1.0, JSON structured mode. Extension attributes: lower-case alphanumeric names. */
export const CloudEventSchema = Type.Object(CLOUD_EVENT_ATTRIBUTES, {
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
});
export type CloudEvent = Static<typeof CloudEventSchema>;

/**
 * A parameter or filter compared with one attribute takes exactly what that attribute can hold: a
 * value no event can have is a 400 naming it, never a store error (PostgreSQL under the local store
 * refuses U+0000 in a query, which was a 500).
 */
export function attributeParameter(
  name: 'id' | 'source' | 'type' | 'subject',
  options: { description: string; examples: string[] },
) {
  const { minLength, maxLength, pattern, description } = CloudEventSchema.properties[name];
  return Type.String({
    minLength,
    maxLength,
    pattern,
    description: `${options.description} (${description})`,
    examples: options.examples,
  });
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
  const { errors, add } = fieldErrors(pointer);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    add('', 'must be a CloudEvent (a JSON object)');
    return errors;
  }
  // Before the schema's errors, whose message for a failed pattern only quotes the pattern.
  for (const [name, attribute] of Object.entries(value)) {
    if (
      name !== 'data' &&
      typeof attribute === 'string' &&
      (!ATTRIBUTE_STRING.test(attribute) || UNPAIRED_SURROGATE.test(attribute))
    ) {
      add(pointerSegment(name), ATTRIBUTE_STRING_MESSAGE);
    }
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
        pointerSegment(name),
        'is not a valid extension attribute name (1-20 lower-case letters or digits)',
      );
    }
  }
  if ('data' in value) dataErrors(value.data, add);
  return errors;
}

/**
 * The rules of cloudEventErrors that no JSON Schema states (unpaired surrogates in attributes, and
 * the /data content rules), for an event the route's schema already accepted: the hot path checks
 * each valid event once, not twice.
 */
export function cloudEventContentErrors(event: CloudEvent, pointer = ''): FieldError[] {
  const { errors, add } = fieldErrors(pointer);
  for (const [name, attribute] of Object.entries(event)) {
    if (name !== 'data' && typeof attribute === 'string' && UNPAIRED_SURROGATE.test(attribute)) {
      add(pointerSegment(name), ATTRIBUTE_STRING_MESSAGE);
    }
  }
  if ('data' in event) dataErrors(event.data, add);
  return errors;
}
