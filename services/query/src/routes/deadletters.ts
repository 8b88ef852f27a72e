import { ORDER, type RoutePlugin } from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { findDeadLetters, toDeadLetterItem } from '../domain/deadletters';
import { listDeadLettersSchema } from '../schemas/deadletters';
import { pageAnswer, pageRequested } from './paging';

export const deadLetterRoutes: RoutePlugin<{ config: QueryConfig }> = async (app, options) => {
  const { config } = options;

  app.get('/v1/deadletters', { schema: listDeadLettersSchema(config) }, async (request, reply) => {
    const tenant = request.principal.tenant;
    const paging = pageRequested(request.query, ORDER.desc);
    const page = await app.reads.serve(request, reply, request.query, (store) =>
      findDeadLetters(store, { tenant, ...paging }),
    );
    return pageAnswer(page, toDeadLetterItem);
  });
};
