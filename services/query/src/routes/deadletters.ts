import type { Static } from '@sinclair/typebox';
import { decodeCursor, encodeCursor } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import type { QueryConfig } from '../config';
import { ORDER } from '../domain/cursor';
import { findDeadLetters, toDeadLetterItem } from '../domain/deadletters';
import { parseRange } from '../domain/time-range';
import { PAGE_LIMITS } from '../schemas/common';
import { listDeadLettersSchema } from '../schemas/deadletters';

type DeadLettersQuerystring = Static<ReturnType<typeof listDeadLettersSchema>['querystring']>;

export async function deadLetterRoutes(app: FastifyInstance, options: { config: QueryConfig }) {
  const { config } = options;

  app.get<{ Querystring: DeadLettersQuerystring }>(
    '/v1/deadletters',
    { schema: listDeadLettersSchema(config) },
    async (request, reply) => {
      const q = request.query;
      const tenant = request.principal.tenant;
      const order = q.order ?? ORDER.desc;
      const range = parseRange(q.since, q.until);
      const after = q.cursor !== undefined ? decodeCursor(q.cursor, 'querystring.cursor') : undefined;
      const page = await app.reads.serve(request, reply, q, (db) =>
        findDeadLetters(db, { tenant, range, limit: q.limit ?? PAGE_LIMITS.default, order, after }),
      );
      return {
        items: page.docs.map(toDeadLetterItem),
        nextCursor: page.next ? encodeCursor(page.next) : null,
      };
    },
  );
}
