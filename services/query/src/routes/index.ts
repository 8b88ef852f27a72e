import { type RoutePlugin, requireScope, SCOPES } from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { ReadCounter } from '../domain/pipeline';
import { deadLetterRoutes } from './deadletters';
import { eventRoutes } from './events';
import { PIPELINE_URL, pipelineRoutes } from './pipeline';
import { statsRoutes } from './stats';

/** Every public route: reads for the tenant the gateway vouched for, with the events:read scope. */
export const routes: RoutePlugin<{ config: QueryConfig }> = async (app, options) => {
  app.addHook('onRequest', async (request) => {
    requireScope(request, SCOPES.read);
  });
  // Reads per tenant answered here, for GET /v1/pipeline (which does not count itself).
  const reads = new ReadCounter();
  app.addHook('onResponse', async (request) => {
    if (request.principal && request.routeOptions.url !== PIPELINE_URL) reads.count(request.principal.tenant);
  });
  await app.register(eventRoutes, options);
  await app.register(statsRoutes, options);
  await app.register(deadLetterRoutes, options);
  await app.register(pipelineRoutes, { ...options, reads });
};
