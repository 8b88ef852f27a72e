import { Type } from '@sinclair/typebox';
import { ORDER, rangeParameters } from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { pageOf, pagingQuery, readRoute, TAGS } from './common';

const DeadLetterItem = Type.Object(
  {
    id: Type.Optional(Type.String({ description: 'Event id, when the message could be read' })),
    source: Type.Optional(Type.String()),
    type: Type.Optional(Type.String()),
    reason: Type.String({ description: 'Why the event could not be stored' }),
    deadLetteredAt: Type.String({ format: 'date-time' }),
    topic: Type.String(),
    partition: Type.Integer(),
    offset: Type.String(),
    key: Type.Union([Type.String(), Type.Null()], { description: 'Kafka message key' }),
    headers: Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
      description: 'Kafka message headers',
    }),
    value: Type.Union([Type.String(), Type.Null()], {
      description: 'The original Kafka message value (text as stored; bytes as base64)',
    }),
    replayedAt: Type.Optional(
      Type.String({ format: 'date-time', description: 'When POST /v1/deadletters/replay last re-sent it' }),
    ),
    replayedTo: Type.Optional(
      Type.Object(
        { topic: Type.String(), partition: Type.Integer(), offset: Type.String() },
        { description: 'Where the replayed copy was written' },
      ),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        id: 'b7a8f0c2-1',
        source: '/shop/checkout',
        type: 'com.example.order.created',
        reason: 'document too large for the store',
        deadLetteredAt: '2026-11-26T10:00:01.000Z',
        topic: 'events',
        partition: 3,
        offset: '1041',
        key: 'acme/order-1042',
        headers: { 'content-type': 'application/cloudevents+json', 'splitstream-tenant': 'acme' },
        value: '{"specversion":"1.0","id":"b7a8f0c2-1"}',
      },
    ],
  },
);

export const listDeadLettersSchema = (config: QueryConfig) =>
  readRoute(config, {
    tag: TAGS.deadLetters,
    summary: 'List dead letters',
    description:
      'Events of your tenant that could not be stored, with the reason and the original message, in keyset pages ' +
      'by dead-letter time (newest first by default).',
    query: {
      ...rangeParameters('Dead-letter time'),
      ...pagingQuery(ORDER.desc, 'dead-letter time (then id)'),
    },
    answer: {
      description: 'A page of dead letters',
      schema: pageOf(DeadLetterItem, { items: DeadLetterItem.examples, nextCursor: null }),
    },
  });
