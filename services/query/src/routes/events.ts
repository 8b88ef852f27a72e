import { NotFoundError, ORDER, type RoutePlugin } from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { findEvent, findEvents } from '../domain/events';
import { toItem } from '../domain/items';
import { findStatus } from '../domain/status';
import { eventStatusSchema, getEventSchema, listEventsSchema } from '../schemas/events';
import { pageAnswer, pageRequested } from './paging';

export const eventRoutes: RoutePlugin<{ config: QueryConfig }> = async (app, options) => {
  const { config } = options;

  app.get('/v1/events', { schema: listEventsSchema(config) }, async (request, reply) => {
    const q = request.query;
    const tenant = request.principal.tenant;
    const paging = pageRequested(q, ORDER.asc);
    const page = await app.reads.serve(request, reply, q, (store) =>
      findEvents(store, { tenant, type: q.type, source: q.source, subject: q.subject, ...paging }),
    );
    return pageAnswer(page, toItem);
  });

  app.get('/v1/events/:id', { schema: getEventSchema(config) }, async (request, reply) => {
    const { id } = request.params;
    const { source } = request.query;
    const doc = await app.reads.serve(request, reply, request.query, (store) =>
      findEvent(store, request.principal.tenant, id, source),
    );
    // Another tenant's event is indistinguishable from a missing one: 404, never 403.
    if (!doc) {
      throw new NotFoundError(
        source === undefined
          ? `no event with id ${JSON.stringify(id)}`
          : `no event with id ${JSON.stringify(id)} from ${source}`,
      );
    }
    return toItem(doc);
  });

  app.get('/v1/events/:id/status', { schema: eventStatusSchema(config) }, async (request, reply) => {
    const { id } = request.params;
    return app.reads.serve(request, reply, request.query, (store) =>
      findStatus(store, request.principal.tenant, id, request.query.source),
    );
  });
};
