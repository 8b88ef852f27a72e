import {
  decodeCursor,
  encodeCursor,
  NotFoundError,
  ORDER,
  parseRange,
  type RoutePlugin,
} from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { findEvent, findEvents } from '../domain/events';
import { toItem } from '../domain/items';
import { findStatus } from '../domain/status';
import { PAGE_LIMITS } from '../schemas/common';
import { eventStatusSchema, getEventSchema, listEventsSchema } from '../schemas/events';

export const eventRoutes: RoutePlugin<{ config: QueryConfig }> = async (app, options) => {
  const { config } = options;

  app.get('/v1/events', { schema: listEventsSchema(config) }, async (request, reply) => {
    const q = request.query;
    const tenant = request.principal.tenant;
    const order = q.order ?? ORDER.asc;
    const range = parseRange(q, (name) => `querystring.${name}`);
    const after = q.cursor !== undefined ? decodeCursor(q.cursor, 'querystring.cursor') : undefined;
    const page = await app.reads.serve(request, reply, q, (db) =>
      findEvents(db, {
        tenant,
        type: q.type,
        source: q.source,
        subject: q.subject,
        range,
        limit: q.limit ?? PAGE_LIMITS.default,
        order,
        after,
      }),
    );
    return {
      items: page.docs.map(toItem),
      nextCursor: page.next ? encodeCursor(page.next) : null,
    };
  });

  app.get('/v1/events/:id', { schema: getEventSchema(config) }, async (request, reply) => {
    const { id } = request.params;
    const { source } = request.query;
    const doc = await app.reads.serve(request, reply, request.query, (db) =>
      findEvent(db, request.principal.tenant, id, source),
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
    return app.reads.serve(request, reply, request.query, (db) =>
      findStatus(db, request.principal.tenant, id, request.query.source),
    );
  });
};
