import { createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ForbiddenError, UnauthorizedError } from './errors';

/**
 * The gateway resolves the API key, strips client-sent copies of these headers, and forwards the
 * tenant and scopes signed with a shared secret. Ingest and query accept a request only with a
 * valid, recent signature: a service reached directly without it refuses.
 */
export const INTERNAL_HEADERS = Object.freeze({
  tenant: 'x-splitstream-tenant',
  scopes: 'x-splitstream-scopes',
  timestamp: 'x-splitstream-timestamp',
  signature: 'x-splitstream-signature',
});

export const SCOPES = Object.freeze({
  write: 'events:write',
  read: 'events:read',
  admin: 'events:admin',
});
export type Scope = (typeof SCOPES)[keyof typeof SCOPES];

/** Signatures older than this are refused, so a captured header set cannot be replayed for long. */
const MAX_CLOCK_SKEW_MS = 60_000;

export interface Principal {
  tenant: string;
  scopes: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

function sign(secret: string, tenant: string, scopes: string, timestamp: string): string {
  return createHmac('sha256', secret).update(`${tenant}\n${scopes}\n${timestamp}`).digest('base64url');
}

/** Headers the gateway adds to a proxied request. */
export function signPrincipal(
  secret: string,
  principal: Principal,
  now = Date.now(),
): Record<string, string> {
  const scopes = principal.scopes.join(' ');
  const timestamp = String(now);
  return {
    [INTERNAL_HEADERS.tenant]: principal.tenant,
    [INTERNAL_HEADERS.scopes]: scopes,
    [INTERNAL_HEADERS.timestamp]: timestamp,
    [INTERNAL_HEADERS.signature]: sign(secret, principal.tenant, scopes, timestamp),
  };
}

export function verifyPrincipal(
  secret: string,
  headers: FastifyRequest['headers'],
  now = Date.now(),
): Principal {
  const read = (name: string) => {
    const value = headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  const tenant = read(INTERNAL_HEADERS.tenant);
  const scopes = read(INTERNAL_HEADERS.scopes) ?? '';
  const timestamp = read(INTERNAL_HEADERS.timestamp);
  const signature = read(INTERNAL_HEADERS.signature);
  if (!tenant || !timestamp || !signature) {
    throw new UnauthorizedError(
      'this service is reached through the gateway only (missing internal credentials)',
    );
  }
  const expected = Buffer.from(sign(secret, tenant, scopes, timestamp));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new UnauthorizedError('invalid internal credentials');
  }
  if (Math.abs(now - Number(timestamp)) > MAX_CLOCK_SKEW_MS) {
    throw new UnauthorizedError('internal credentials expired');
  }
  return { tenant, scopes: scopes.split(' ').filter(Boolean) };
}

export function requireScope(request: FastifyRequest, scope: Scope): void {
  if (!request.principal.scopes.includes(scope)) {
    throw new ForbiddenError(`this API key lacks the ${scope} scope`);
  }
}

/** Verifies the gateway's signature on every request under `prefix` and sets `request.principal`. */
export const internalAuthPlugin = fp(
  async (app: FastifyInstance, options: { secret: string; prefix?: string }) => {
    const prefix = options.prefix ?? '/v1/';
    app.decorateRequest('principal', null as unknown as Principal);
    app.addHook('onRequest', async (request) => {
      if (!request.url.startsWith(prefix)) return;
      request.principal = verifyPrincipal(options.secret, request.headers);
    });
  },
  { name: 'splitstream-internal-auth' },
);
