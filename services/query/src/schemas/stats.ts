import { Type } from '@sinclair/typebox';
import { DateTime } from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { INTERVALS, STATS_BY } from '../domain/stats';
import { readRoute, TAGS } from './common';

export const statsSchema = (config: QueryConfig) =>
  readRoute(config, {
    tag: TAGS.stats,
    summary: 'Event counts per interval',
    description:
      `Exact counts of your tenant's events (each stored once, so retries and redeliveries never count twice), ` +
      `grouped by type, source or subject per UTC minute, hour or day over [since, until) by event time ` +
      `(empty when until is not after since), read from rollups the writer keeps per minute: a bound inside a ` +
      "minute widens to the whole minute (since down, until up), and the answer's since and until say so. " +
      `One answer covers at most ${config.STATS_MAX_BUCKETS} intervals ` +
      'from since: over a longer range it stops there, with `complete: false` and `until` saying where; ' +
      'ask again from that `until` for the rest.',
    query: {
      by: Type.Optional(
        Type.Union(
          Object.values(STATS_BY).map((b) => Type.Literal(b)),
          { default: STATS_BY.type, description: 'Attribute to group by', examples: [STATS_BY.source] },
        ),
      ),
      interval: Type.Optional(
        Type.Union(
          Object.values(INTERVALS).map((i) => Type.Literal(i)),
          { default: INTERVALS.hour, description: 'Bucket width (UTC)', examples: [INTERVALS.minute] },
        ),
      ),
      since: DateTime('Range start, inclusive (RFC 3339)', '2026-11-26T00:00:00Z'),
      until: DateTime('Range end, exclusive (RFC 3339)', '2026-11-27T00:00:00Z'),
    },
    answer: {
      description: 'Counts per bucket and key',
      schema: Type.Object(
        {
          by: Type.String(),
          interval: Type.String(),
          since: Type.String({
            format: 'date-time',
            description: 'Start of the range covered (since, down to its minute)',
          }),
          until: Type.String({
            format: 'date-time',
            description:
              'End of the range this answer covers (until, up to its minute, unless `complete` is false)',
          }),
          complete: Type.Boolean({
            description: `false when the range asked for spans more than ${config.STATS_MAX_BUCKETS} intervals`,
          }),
          total: Type.Integer({ description: 'Events in the range covered' }),
          groups: Type.Array(
            Type.Object({
              bucket: Type.String({ format: 'date-time', description: 'Bucket start (UTC)' }),
              key: Type.Union([Type.String(), Type.Null()], {
                description: 'Value of the grouped attribute; null for events without it',
              }),
              count: Type.Integer(),
            }),
            { description: 'Non-empty buckets only, by bucket then key' },
          ),
        },
        {
          additionalProperties: false,
          examples: [
            {
              by: 'type',
              interval: 'hour',
              since: '2026-11-26T00:00:00.000Z',
              until: '2026-11-27T00:00:00.000Z',
              complete: true,
              total: 5,
              groups: [
                { bucket: '2026-11-26T10:00:00Z', key: 'com.example.order.created', count: 3 },
                { bucket: '2026-11-26T11:00:00Z', key: 'com.example.order.paid', count: 2 },
              ],
            },
          ],
        },
      ),
    },
  });
