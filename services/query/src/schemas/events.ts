import { Type } from '@sinclair/typebox';
import {
  attributeParameter,
  CloudEventSchema,
  encodeCursor,
  ORDER,
  rangeParameters,
} from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { METADATA_FIELD } from '../domain/items';
import { EVENT_STATUS } from '../domain/status';
import { pageOf, pagingQuery, readRoute, TAGS } from './common';

/** Page size bounds from the public API contract. */

const EventMetadata = Type.Object(
  {
    receivedAt: Type.String({ format: 'date-time', description: 'When ingest accepted the event' }),
    storedAt: Type.String({ format: 'date-time', description: 'When the writer stored it' }),
    topic: Type.String(),
    partition: Type.Integer(),
    offset: Type.String({ description: 'Kafka offset (int64 as a decimal string)' }),
  },
  { description: 'Where and when Splitstream stored the event' },
);

const EXAMPLE_EVENT = CloudEventSchema.examples?.[0] ?? {};

/**
 * An event as ingested (attributes, extensions, data) plus our metadata under `_splitstream`: a name
 * no CloudEvents attribute can have (they are lower-case letters and digits), so nothing collides.
 */
export const EventItem = Type.Object(
  { ...CloudEventSchema.properties, [METADATA_FIELD]: EventMetadata },
  {
    additionalProperties: true,
    description:
      'The CloudEvent exactly as ingested (extension attributes included), plus _splitstream metadata',
    examples: [
      {
        ...EXAMPLE_EVENT,
        [METADATA_FIELD]: {
          receivedAt: '2026-11-26T10:00:00.120Z',
          storedAt: '2026-11-26T10:00:00.180Z',
          topic: 'events',
          partition: 3,
          offset: '1041',
        },
      },
    ],
  },
);

const exact = (name: 'type' | 'source' | 'subject', example: string) =>
  attributeParameter(name, {
    description: `Only events whose ${name} equals this value exactly (no patterns, no operators)`,
    examples: [example],
  });

export const listEventsSchema = (config: QueryConfig) =>
  readRoute(config, {
    tag: TAGS.events,
    summary: 'List events',
    description:
      'Events of your tenant by event time, filtered by exact type/source/subject and a time range, in keyset ' +
      'pages: a page never repeats or skips an event, even while new ones arrive.',
    query: {
      type: Type.Optional(exact('type', 'com.example.order.created')),
      source: Type.Optional(exact('source', '/shop/checkout')),
      subject: Type.Optional(exact('subject', 'order-1042')),
      ...rangeParameters('Event time'),
      ...pagingQuery(ORDER.asc, 'event time (then identity)'),
    },
    answer: {
      description: 'A page of events',
      schema: pageOf(EventItem, {
        items: EventItem.examples,
        nextCursor: encodeCursor({ time: new Date('2026-11-26T10:00:00Z'), id: '...' }),
      }),
    },
  });

const EventIdParams = Type.Object(
  { id: attributeParameter('id', { description: 'The event id', examples: ['b7a8f0c2-1'] }) },
  { additionalProperties: false },
);

const SourceParam = Type.Optional(
  attributeParameter('source', {
    description: 'The event source: completes the identity (source, id) when several sources use the id',
    examples: ['/shop/checkout'],
  }),
);

export const getEventSchema = (config: QueryConfig) =>
  readRoute(config, {
    tag: TAGS.events,
    summary: 'Get one event',
    description:
      'One event of your tenant by id (and source). An id several sources use, asked without source, is a 409.',
    params: EventIdParams,
    query: { source: SourceParam },
    answer: { description: 'The event', schema: EventItem },
    errors: {
      notFound: 'No such event in your tenant',
      conflict: 'Several sources use this id: `sources` names them; ask again with source',
    },
  });

export const eventStatusSchema = (config: QueryConfig) =>
  readRoute(config, {
    tag: TAGS.events,
    summary: 'Where an event is',
    description:
      'stored, dead-lettered (with the reason), or unknown (not yet stored, or never accepted). With a consistency ' +
      'token from the event\'s ingest, "unknown" means it was not accepted.',
    params: EventIdParams,
    query: { source: SourceParam },
    answer: {
      description: 'The event status',
      schema: Type.Object(
        {
          id: Type.String(),
          status: Type.Union(Object.values(EVENT_STATUS).map((s) => Type.Literal(s))),
          source: Type.Optional(Type.String()),
          storedAt: Type.Optional(Type.String({ format: 'date-time' })),
          reason: Type.Optional(Type.String({ description: 'Why the event could not be stored' })),
          deadLetteredAt: Type.Optional(Type.String({ format: 'date-time' })),
        },
        {
          additionalProperties: false,
          examples: [
            {
              id: 'b7a8f0c2-1',
              status: 'dead-lettered',
              source: '/shop/checkout',
              reason: 'document too large for the store',
              deadLetteredAt: '2026-11-26T10:00:01Z',
            },
          ],
        },
      ),
    },
    errors: { conflict: 'Several sources use this id: `sources` names them; ask again with source' },
  });
