import { ForbiddenError, type Scope, UnauthorizedError } from '@splitstream/shared';
import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ApiKeyRecord, ApiKeyStore } from './api-keys';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's API key, resolved by the route's authentication hook. */
    apiKey: ApiKeyRecord | null;
  }
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
export const AUTH_CHALLENGE = 'Bearer realm="splitstream", charset="UTF-8"';

/** The key a client presented: `Authorization: Bearer <key>`, else `X-API-Key: <key>`. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 0) {
    const match = BEARER.exec(authorization);
    if (!match) throw new UnauthorizedError('the Authorization header must be "Bearer <API key>"');
    return match[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

/** onRequest hook of a public route: 401 without a valid key, 403 without the route's scope. */
export function authenticate(store: ApiKeyStore, scope: Scope): onRequestAsyncHookHandler {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    let key: string | undefined;
    try {
      key = presentedKey(request);
      if (key === undefined)
        throw new UnauthorizedError('an API key is required (Authorization: Bearer or X-API-Key)');
      const record = store.resolve(key);
      if (!record) throw new UnauthorizedError('the API key is not valid');
      request.apiKey = record;
    } catch (error) {
      reply.header('www-authenticate', AUTH_CHALLENGE);
      throw error;
    }
    request.log = request.log.child({ apiKey: request.apiKey.id, tenant: request.apiKey.tenant });
    if (!request.apiKey.scopes.includes(scope))
      throw new ForbiddenError(`this API key lacks the ${scope} scope`);
  };
}
