import { type Static, Type } from '@sinclair/typebox';
import {
  attributeParameter,
  BODY_LIMITS,
  CURSOR_PATTERN,
  cursorSchema,
  DEAD_LETTER_REASONS,
  encodeToken,
  problemResponse,
  RETRY_AFTER_HEADER,
  rangeParameters,
  tokenSchema,
} from '@splitstream/shared';
import { contentEncodingHeaders } from './events';

export const REPLAY_LIMITS = Object.freeze({ min: 1, max: 1000, default: 100 });
export const REPLAY_CONTENT_TYPE = 'application/json';
export const REPLAY_BODY_LIMIT_BYTES = BODY_LIMITS.replay;

const REASON_CODES = Object.values(DEAD_LETTER_REASONS);

export const ReplayFilterSchema = Type.Object(
  {
    ids: Type.Optional(
      Type.Array(attributeParameter('id', { description: 'An event id', examples: ['b7a8f0c2-1'] }), {
        minItems: 1,
        maxItems: REPLAY_LIMITS.max,
        description: 'Event ids (the `id` attribute): only dead letters of these events',
        examples: [['b7a8f0c2-1', 'b7a8f0c2-2']],
      }),
    ),
    source: Type.Optional(
      attributeParameter('source', { description: 'Event source', examples: ['/shop/checkout'] }),
    ),
    type: Type.Optional(
      attributeParameter('type', { description: 'Event type', examples: ['com.example.order.created'] }),
    ),
    reason: Type.Optional(
      Type.Union(
        REASON_CODES.map((code) => Type.Literal(code)),
        {
          description: `Why the event was dead-lettered (the code before the colon of \`reason\`): ${REASON_CODES.join(', ')}`,
          examples: [DEAD_LETTER_REASONS.rejectedByStore],
        },
      ),
    ),
    ...rangeParameters('Dead-letter time'),
  },
  {
    additionalProperties: false,
    description: 'Every criterion given must hold; none: all of your tenant’s dead letters',
  },
);

export const ReplayRequestSchema = Type.Object(
  {
    filter: Type.Optional(ReplayFilterSchema),
    limit: Type.Optional(
      Type.Integer({
        minimum: REPLAY_LIMITS.min,
        maximum: REPLAY_LIMITS.max,
        default: REPLAY_LIMITS.default,
        description: 'At most this many dead letters, oldest first',
      }),
    ),
    cursor: Type.Optional(
      cursorSchema(
        '`nextCursor` of a previous answer: continue after the last dead letter it matched (to get past ones that stay skipped)',
      ),
    ),
    dryRun: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Answer what would be replayed and skipped; produce nothing',
      }),
    ),
    includeReplayed: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Also match dead letters replayed before (they are left out by default, so a repeated request does not send them again)',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        filter: { reason: DEAD_LETTER_REASONS.rejectedByStore, since: '2026-11-26T00:00:00Z' },
        limit: 100,
        dryRun: true,
      },
    ],
  },
);
export type ReplayRequestBody = Static<typeof ReplayRequestSchema>;

const Skipped = Type.Object(
  {
    deadLetterId: Type.String({ description: 'The dead letter (`topic/partition/offset` it was read from)' }),
    id: Type.Optional(Type.String({ description: 'Event id, when the dead letter has one' })),
    reason: Type.String({ description: '`code: detail`; the dead letter stays as it is' }),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), {
        description: 'CloudEvent validation faults, as JSON pointers',
      }),
    ),
  },
  { additionalProperties: false },
);

const replayProperties = {
  dryRun: Type.Boolean(),
  matched: Type.Integer({ description: 'Dead letters the filter selected (at most `limit`)' }),
  replayed: Type.Integer({ description: 'Events re-produced to Kafka (dry run: that would be)' }),
  ids: Type.Array(Type.String(), { description: 'Their event ids, in replay order' }),
  deadLetterIds: Type.Array(Type.String(), { description: 'The dead letters they came from, same order' }),
  skipped: Type.Array(Skipped, {
    description:
      'Dead letters that still fail validation: not replayed, not marked, still listed as dead letters',
  }),
  alreadyReplayed: Type.Integer({
    description:
      'Dead letters matching the filter left out because they were replayed before (0 with includeReplayed)',
  }),
  nextCursor: Type.Union([Type.String({ pattern: CURSOR_PATTERN }), Type.Null()], {
    description: 'More dead letters match past `limit`: pass this as `cursor` to continue after this page',
  }),
};

// What both answers report about the same three matching dead letters.
const previewExample = {
  matched: 3,
  replayed: 2,
  ids: ['b7a8f0c2-1', 'b7a8f0c2-2'],
  deadLetterIds: ['events/3/1041', 'events/3/1042'],
  skipped: [
    {
      deadLetterId: 'events/3/1040',
      id: 'b7a8f0c2-0',
      reason: 'invalid-event: /source Expected required property',
      errors: [{ field: '/source', message: 'Expected required property' }],
    },
  ],
  nextCursor: null,
};

const replayAccepted = (topic: string) =>
  Type.Object(
    {
      ...replayProperties,
      unmarked: Type.Array(Type.String(), {
        description:
          'Dead letters replayed whose record could not be marked afterwards (store unavailable): a later replay would send them again, which storage ignores',
      }),
      token: tokenSchema(
        topic,
        'Read-your-writes token covering every replayed event (pass it as `after` to a query)',
      ),
    },
    {
      additionalProperties: false,
      description:
        'Every replayed event is durable in Kafka (acks=all); their dead-letter records are marked `replayedAt`',
      examples: [
        {
          ...previewExample,
          dryRun: false,
          alreadyReplayed: 0,
          unmarked: [],
          token: encodeToken({ topic, offsets: { '3': '2041' } }),
        },
      ],
    },
  );

const ReplayPreview = Type.Object(replayProperties, {
  additionalProperties: false,
  description: 'Dry run: what would be replayed and skipped; nothing was produced or marked',
  examples: [{ ...previewExample, dryRun: true, alreadyReplayed: 1 }],
});

const problem = (status: number, description: string, example: object, headers?: Record<string, unknown>) =>
  problemResponse(description, {
    example: { status, instance: '/v1/deadletters/replay', ...example },
    ...(headers ? { headers } : {}),
  });

export const replaySchema = (topic: string) => ({
  tags: ['dead letters'],
  summary: 'Replay dead letters',
  description:
    'Re-produces your tenant’s dead letters that match the filter (oldest first, at most `limit`) to the events ' +
    'topic, with the same key and headers as the original POST (tenant, original receipt time) plus ' +
    '`splitstream-replay-of`. Each original value is validated again: one that is still not a valid CloudEvent is ' +
    'skipped and stays dead. Replays are safe because storage is idempotent: an event already stored is a no-op. ' +
    'A replayed dead letter is marked (`replayedAt`, after Kafka acknowledged it) and left out of later replays ' +
    'unless `includeReplayed` is true. `dryRun: true` answers 200 with what would happen and produces nothing.',
  consumes: [REPLAY_CONTENT_TYPE],
  headers: contentEncodingHeaders,
  body: ReplayRequestSchema,
  response: {
    200: ReplayPreview,
    202: replayAccepted(topic),
    400: problem(400, 'The body is not valid; `errors` names each bad field as a JSON pointer', {
      title: 'Bad Request',
      detail: '/filter/since is not of the accepted form (see the schema)',
      errors: [{ field: '/filter/since', message: 'is not of the accepted form (see the schema)' }],
    }),
    401: problem(
      401,
      'Missing or invalid internal credentials (the service is reached through the gateway only)',
      {
        title: 'Unauthorized',
        detail: 'this service is reached through the gateway only (missing internal credentials)',
      },
    ),
    403: problem(403, 'The API key lacks the events:admin scope', {
      title: 'Forbidden',
      detail: 'this API key lacks the events:admin scope',
    }),
    415: problem(
      415,
      'Content-Type is not application/json, or Content-Encoding is not one of the header’s',
      {
        title: 'Unsupported Media Type',
        detail: 'Unsupported Media Type: text/plain',
      },
    ),
    503: problem(
      503,
      'Kafka or the store is unreachable, or the in-flight budget is full. Dead letters replayed before the failure are marked (`replayed`, `ids`, `token` say which); repeating the request replays the rest',
      {
        title: 'Service Unavailable',
        detail: 'the event broker is unreachable',
      },
      RETRY_AFTER_HEADER,
    ),
  },
});
