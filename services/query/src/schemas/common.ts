import { type TObject, type TProperties, type TSchema, Type } from '@sinclair/typebox';
import {
  cursorSchema,
  ORDER,
  type Order,
  PUBLIC_HEADERS,
  problemResponse,
  RETRY_AFTER_HEADER,
  tokenSchema,
} from '@splitstream/shared';
import type { QueryConfig } from '../config';

export const TAGS = Object.freeze({
  events: 'events',
  stats: 'stats',
  deadLetters: 'dead letters',
  pipeline: 'pipeline',
});

/** Read-your-writes parameters every read route accepts. */
export function consistencyQuery(config: QueryConfig) {
  return {
    after: Type.Optional(
      tokenSchema(
        config.KAFKA_TOPIC,
        'Consistency token from ingest: answer only once the store this read uses has applied those writes ' +
          '(same as the Consistency-Token header)',
      ),
    ),
    maxWaitMs: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: config.READ_MAX_WAIT_CAP_MS,
        default: config.READ_MAX_WAIT_MS,
        description: 'How long to wait for the token to be applied before answering 503',
        examples: [config.READ_MAX_WAIT_MS],
      }),
    ),
  };
}

export function consistencyHeaders(config: QueryConfig) {
  return Type.Object({
    [PUBLIC_HEADERS.consistencyToken]: Type.Optional(
      tokenSchema(config.KAFKA_TOPIC, 'Consistency token, as the `after` parameter'),
    ),
  });
}

/** Response headers every read carries. */
export const FRESHNESS_HEADERS = {
  'Splitstream-Served-By': {
    type: 'string',
    enum: ['replica', 'primary'],
    description: 'Which store endpoint answered: the replica, or the primary when no replica was available',
  },
  'Splitstream-Applied-Time': {
    type: 'string',
    format: 'date-time',
    description:
      'Every event accepted (answered 202) before this time is visible on the endpoint that answered. The writer ' +
      'moves it with each batch and, while it is caught up, once a second even when no event arrives; it is the ' +
      'oldest such time over the partitions. Absent before any writer ran.',
  },
  'Splitstream-Staleness-Ms': {
    type: 'integer',
    minimum: 0,
    description:
      'Milliseconds from Splitstream-Applied-Time to the answer: an upper bound of how stale the answer can be. ' +
      'On an idle, caught-up system it stays under the writer heartbeat interval (1 s) plus replication lag; ' +
      'it grows while the writer is stopped or behind.',
  },
} as const;

/** The error responses of every read route; 404 and 409 only where they can happen. */
export function readErrors(extra: { notFound?: string; conflict?: string } = {}) {
  return {
    400: problemResponse('A parameter is unknown or invalid; `errors` names each one'),
    401: problemResponse('Missing or invalid credentials'),
    403: problemResponse('The API key lacks the events:read scope'),
    ...(extra.notFound ? { 404: problemResponse(extra.notFound) } : {}),
    ...(extra.conflict ? { 409: problemResponse(extra.conflict) } : {}),
    503: problemResponse(
      'The store has not applied the consistency token within maxWaitMs, no store endpoint answers, or the ' +
        'store did not finish the query within its time bound (READ_MAX_TIME_MS); retry after Retry-After',
      { headers: RETRY_AFTER_HEADER },
    ),
  };
}

/** A 200 response with the freshness headers. */
export function readResponse<T>(description: string, schema: T) {
  return { description, headers: FRESHNESS_HEADERS, content: { 'application/json': { schema } } };
}

export const PAGE_LIMITS = Object.freeze({ min: 1, max: 1000, default: 100 });

export const NextCursor = Type.Union(
  [cursorSchema('Pass as `cursor` to get the next page with the same filters and order'), Type.Null()],
  { description: 'Pass as `cursor` to get the next page; null on the last page' },
);

/** limit, order and cursor of a keyset-paginated list; `orderedBy` says what the order sorts by. */
export function pagingQuery(defaultOrder: Order, orderedBy: string) {
  return {
    limit: Type.Optional(
      Type.Integer({
        minimum: PAGE_LIMITS.min,
        maximum: PAGE_LIMITS.max,
        default: PAGE_LIMITS.default,
        description: 'Page size',
        examples: [100],
      }),
    ),
    order: Type.Optional(
      Type.Union([Type.Literal(ORDER.asc), Type.Literal(ORDER.desc)], {
        default: defaultOrder,
        description: `By ${orderedBy}`,
        examples: [defaultOrder === ORDER.asc ? ORDER.desc : ORDER.asc],
      }),
    ),
    cursor: Type.Optional(
      cursorSchema(
        'nextCursor of the previous page: this page starts after that item. Used with other filters or ' +
          'another order it is still a position, the page starts after it in that order',
      ),
    ),
  };
}

/** A keyset page of `item`s: the answer of every list route. */
export function pageOf<T extends TSchema>(item: T, example: { items: unknown; nextCursor: string | null }) {
  return Type.Object(
    { items: Type.Array(item), nextCursor: NextCursor },
    { additionalProperties: false, examples: [example] },
  );
}

export interface ReadRoute<P extends TProperties, R extends TSchema, A extends TObject | undefined> {
  tag: string;
  summary: string;
  description: string;
  /** Path parameters, for routes that have them. */
  params?: A;
  /** The route's own query parameters; the read-your-writes ones are added. */
  query: P;
  /** The 200 answer: its description and schema. */
  answer: { description: string; schema: R };
  errors?: { notFound?: string; conflict?: string };
}

/**
 * The schema of a read route: its parameters plus the consistency ones (unknown ones refused), the
 * consistency header, the 200 with the freshness headers, and the error answers every read has.
 */
export function readRoute<
  P extends TProperties,
  R extends TSchema,
  A extends TObject | undefined = undefined,
>(config: QueryConfig, route: ReadRoute<P, R, A>) {
  return {
    tags: [route.tag],
    summary: route.summary,
    description: route.description,
    // `A` is undefined exactly when the route has no path parameters (then no `params` key at all).
    ...((route.params ? { params: route.params } : {}) as { params: A }),
    querystring: Type.Object(
      { ...route.query, ...consistencyQuery(config) },
      { additionalProperties: false },
    ),
    headers: consistencyHeaders(config),
    response: {
      200: readResponse(route.answer.description, route.answer.schema),
      ...readErrors(route.errors),
    },
  };
}
