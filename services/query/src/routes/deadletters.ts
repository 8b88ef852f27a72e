import { decodeCursor, encodeCursor, ORDER, parseRange, type RoutePlugin } from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { findDeadLetters, toDeadLetterItem } from '../domain/deadletters';
import { PAGE_LIMITS } from '../schemas/common';
import { listDeadLettersSchema } from '../schemas/deadletters';

export const deadLetterRoutes: RoutePlugin<{ config: QueryConfig }> = async (app, options) => {
  const { config } = options;

  app.get('/v1/deadletters', { schema: listDeadLettersSchema(config) }, async (request, reply) => {
    const q = request.query;
    const tenant = request.principal.tenant;
    const order = q.order ?? ORDER.desc;
    const range = parseRange(q, (name) => `querystring.${name}`);
    const after = q.cursor !== undefined ? decodeCursor(q.cursor, 'querystring.cursor') : undefined;
    const page = await app.reads.serve(request, reply, q, (db) =>
      findDeadLetters(db, { tenant, range, limit: q.limit ?? PAGE_LIMITS.default, order, after }),
    );
    return {
      items: page.docs.map(toDeadLetterItem),
      nextCursor: page.next ? encodeCursor(page.next) : null,
    };
  });
};
