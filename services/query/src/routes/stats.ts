import type { Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { QueryConfig } from '../config';
import { computeStats, coveredUntil, INTERVALS, STATS_BY } from '../domain/stats';
import { parseRange } from '../domain/time-range';
import { statsSchema } from '../schemas/stats';

type StatsQuerystring = Static<ReturnType<typeof statsSchema>['querystring']>;

export async function statsRoutes(app: FastifyInstance, options: { config: QueryConfig }) {
  const { config } = options;

  app.get<{ Querystring: StatsQuerystring }>(
    '/v1/stats',
    { schema: statsSchema(config) },
    async (request, reply) => {
      const q = request.query;
      const range = parseRange(q.since, q.until) as { since: Date; until: Date };
      const by = q.by ?? STATS_BY.type;
      const interval = q.interval ?? INTERVALS.hour;
      const { since } = range;
      const until = coveredUntil({ interval, ...range }, config.STATS_MAX_BUCKETS);
      const result = await app.reads.serve(request, reply, q, (db) =>
        computeStats(db, { tenant: request.principal.tenant, by, interval, since, until }),
      );
      return {
        by,
        interval,
        since: since.toISOString(),
        until: until.toISOString(),
        complete: until.getTime() === range.until.getTime(),
        ...result,
      };
    },
  );
}
