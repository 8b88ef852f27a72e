import { type RoutePlugin, requireScope, SCOPES } from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { deadLetterRoutes } from './deadletters';
import { eventRoutes } from './events';
import { statsRoutes } from './stats';

/** Every public route: reads for the tenant the gateway vouched for, with the events:read scope. */
export const routes: RoutePlugin<{ config: QueryConfig }> = async (app, options) => {
  app.addHook('onRequest', async (request) => {
    requireScope(request, SCOPES.read);
  });
  await app.register(eventRoutes, options);
  await app.register(statsRoutes, options);
  await app.register(deadLetterRoutes, options);
};
