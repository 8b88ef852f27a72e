import { requireScope, SCOPES } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import type { QueryConfig } from '../config';
import { deadLetterRoutes } from './deadletters';
import { eventRoutes } from './events';
import { statsRoutes } from './stats';
import { rejectUnknownQueryParameters } from './strict-query';

/** Every public route: reads for the tenant the gateway vouched for, with the events:read scope. */
export async function routes(app: FastifyInstance, options: { config: QueryConfig }) {
  app.addHook('onRequest', async (request) => {
    requireScope(request, SCOPES.read);
  });
  rejectUnknownQueryParameters(app);
  await app.register(eventRoutes, options);
  await app.register(statsRoutes, options);
  await app.register(deadLetterRoutes, options);
}
