import { parseRange, type RoutePlugin } from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { computeStats, coveredUntil, INTERVALS, minuteAligned, STATS_BY } from '../domain/stats';
import { statsSchema } from '../schemas/stats';

export const statsRoutes: RoutePlugin<{ config: QueryConfig }> = async (app, options) => {
  const { config } = options;

  app.get('/v1/stats', { schema: statsSchema(config) }, async (request, reply) => {
    const q = request.query;
    const range = minuteAligned(
      parseRange(q, (name) => `querystring.${name}`) as { since: Date; until: Date },
    );
    const by = q.by ?? STATS_BY.type;
    const interval = q.interval ?? INTERVALS.hour;
    const { since } = range;
    const until = coveredUntil({ interval, ...range }, config.STATS_MAX_BUCKETS);
    const result = await app.reads.serve(request, reply, q, (store) =>
      computeStats(store, { tenant: request.principal.tenant, by, interval, since, until }),
    );
    return {
      by,
      interval,
      since: since.toISOString(),
      until: until.toISOString(),
      complete: until.getTime() === range.until.getTime(),
      ...result,
    };
  });
};
