import { Type } from '@sinclair/typebox';
import {
  CloudEventSchema,
  EVENT_LIMITS,
  encodeToken,
  problemResponse,
  RETRY_AFTER_HEADER,
  tokenSchema,
} from '@splitstream/shared';
import { CONTENT_ENCODING_DESCRIPTION, CONTENT_ENCODING_PATTERN } from '../domain/body';

export const SINGLE_CONTENT_TYPES = ['application/json', 'application/cloudevents+json'] as const;
export const BATCH_CONTENT_TYPES = ['application/json', 'application/cloudevents-batch+json'] as const;

const example = CloudEventSchema.examples?.[0] as Record<string, unknown>;
const secondExample = {
  ...example,
  id: 'b7a8f0c2-2',
  subject: 'order-1043',
  data: { orderId: 1043, total: 12 },
};

// The token answered is one the query of the same deployment (same topic) accepts as `after`.
const exampleToken = (topic: string) => encodeToken({ topic, offsets: { '3': '42' } });

const CloudEventRef = Type.Ref(CloudEventSchema);

/** A problem+json response with its own example, so each status shows its case. */
const problem = (status: number, title: string, description: string, detail: string, extra: object = {}) =>
  problemResponse(description, {
    example: { title, status, detail, instance: '/v1/events/batch', ...extra },
    ...(status === 503 ? { headers: RETRY_AFTER_HEADER } : {}),
  });

/** Error responses shared by both routes; each says what causes it. */
const errorResponses = {
  400: problem(
    400,
    'Bad Request',
    'Malformed JSON, invalid gzip, or an event that is not a valid CloudEvent, including what its `data` may not hold (see the CloudEvent schema: nesting depth, unpaired surrogates, U+0000 in keys, `__proto__`); `errors` names each bad field as a JSON pointer (`/3/source` for the fourth event of a batch, `/data/a/__proto__` inside data)',
    '1 of 4 events are invalid; the batch was rejected as a whole: /3/source Expected required property',
    { errors: [{ field: '/3/source', message: 'Expected required property' }] },
  ),
  401: problem(
    401,
    'Unauthorized',
    'Missing or invalid internal credentials (the service is reached through the gateway only)',
    'this service is reached through the gateway only (missing internal credentials)',
  ),
  403: problem(
    403,
    'Forbidden',
    'The API key lacks the events:write scope',
    'this API key lacks the events:write scope',
  ),
  413: problem(
    413,
    'Payload Too Large',
    `Body over ${EVENT_LIMITS.maxBatchBytes} bytes (checked before reading it, and after gzip inflation), or an event over ${EVENT_LIMITS.maxEventBytes} bytes`,
    `the body inflates to more than ${EVENT_LIMITS.maxBatchBytes} bytes`,
  ),
  415: problem(
    415,
    'Unsupported Media Type',
    'Content-Type or Content-Encoding not accepted',
    'Content-Type text/plain is not accepted here; send application/json or application/cloudevents-batch+json',
  ),
  503: problem(
    503,
    'Service Unavailable',
    'Kafka is unreachable, the producer is reconnecting, the in-flight budget is full, the event loop is saturated, or the service is shutting down; nothing of the request was acknowledged: retry after Retry-After seconds (event ids make retries safe)',
    'the event broker is unreachable',
  ),
};

/** Request headers of every route that takes a body (the replay too). */
export const contentEncodingHeaders = Type.Object({
  'content-encoding': Type.Optional(
    // No example: Swagger UI would pre-fill it and "Try it out" would send plain JSON labelled gzip.
    Type.String({ pattern: CONTENT_ENCODING_PATTERN, description: CONTENT_ENCODING_DESCRIPTION }),
  ),
});

export const postEventSchema = (topic: string): Record<string, unknown> => ({
  tags: ['events'],
  summary: 'Ingest one event',
  description:
    'One CloudEvent in structured JSON mode. Answered 202 only after Kafka acknowledged it with acks=all. A missing `time` is filled from the ingest clock. The tenant comes from the API key, never from the body.',
  consumes: [...SINGLE_CONTENT_TYPES],
  headers: contentEncodingHeaders,
  // allOf keeps the example next to the reference (@fastify/swagger drops siblings of a bare $ref).
  body: { allOf: [CloudEventRef], examples: [example] },
  response: {
    202: Type.Object(
      {
        id: Type.String({ description: 'The event id' }),
        token: tokenSchema(topic, 'Read-your-writes token: pass it as `after` to a query'),
      },
      { description: 'Durable in Kafka', examples: [{ id: example.id, token: exampleToken(topic) }] },
    ),
    ...errorResponses,
  },
});

export const postBatchSchema = (topic: string): Record<string, unknown> => ({
  tags: ['events'],
  summary: 'Ingest a batch of events',
  description: `1 to ${EVENT_LIMITS.maxBatchEvents} CloudEvents, at most ${EVENT_LIMITS.maxBatchBytes} bytes after decompression. Validated as a whole: one bad event rejects the batch (400 naming each bad index). 202 only after Kafka acknowledged every event.`,
  consumes: [...BATCH_CONTENT_TYPES],
  headers: contentEncodingHeaders,
  body: Type.Array(CloudEventRef, {
    minItems: 1,
    maxItems: EVENT_LIMITS.maxBatchEvents,
    examples: [[example, secondExample]],
  }),
  response: {
    202: Type.Object(
      {
        accepted: Type.Integer({ description: 'Number of events acknowledged' }),
        ids: Type.Array(Type.String(), { description: 'Event ids, in request order' }),
        token: tokenSchema(topic, 'Read-your-writes token covering every event of the batch'),
      },
      {
        description: 'Every event durable in Kafka',
        examples: [{ accepted: 2, ids: [example.id, secondExample.id], token: exampleToken(topic) }],
      },
    ),
    ...errorResponses,
  },
});
