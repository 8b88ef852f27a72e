import { ValidationError } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';

/**
 * Unknown query parameters are a 400 naming them. Fastify's default Ajv setup *removes* properties a
 * schema does not allow (removeAdditional) instead of rejecting them, so `type[$ne]=x` would be
 * silently dropped and the client would get unfiltered results; this hook rejects it first, from the
 * route's own schema, so the allowed names live in one place.
 */
export function rejectUnknownQueryParameters(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const schema = request.routeOptions.schema?.querystring as
      | { properties?: Record<string, unknown> }
      | undefined;
    const allowed = schema?.properties;
    if (!allowed) return;
    const unknown = Object.keys(request.query as Record<string, unknown>).filter(
      (name) => !Object.hasOwn(allowed, name),
    );
    if (unknown.length > 0) {
      throw new ValidationError(
        `unknown query parameter${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`,
        {
          errors: unknown.map((name) => ({ field: `querystring.${name}`, message: 'is not allowed' })),
        },
      );
    }
  });
}
