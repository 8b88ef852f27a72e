import { SCOPES, type Scope } from '@splitstream/shared';

export const UPSTREAMS = Object.freeze({ ingest: 'ingest', query: 'query' });
export type UpstreamName = (typeof UPSTREAMS)[keyof typeof UPSTREAMS];

export const BODY_KINDS = Object.freeze({ none: 'none', event: 'event', batch: 'batch' });
export type BodyKind = (typeof BODY_KINDS)[keyof typeof BODY_KINDS];

export interface PublicRoute {
  method: 'GET' | 'POST';
  /** Fastify path syntax (`:id`); the OpenAPI form is derived. */
  url: string;
  upstream: UpstreamName;
  scope: Scope;
  body: BodyKind;
}

/** Every public operation: which upstream serves it and which scope it needs (DESIGN.md "Public API"). */
export const PUBLIC_ROUTES: readonly PublicRoute[] = Object.freeze([
  {
    method: 'POST',
    url: '/v1/events',
    upstream: UPSTREAMS.ingest,
    scope: SCOPES.write,
    body: BODY_KINDS.event,
  },
  {
    method: 'POST',
    url: '/v1/events/batch',
    upstream: UPSTREAMS.ingest,
    scope: SCOPES.write,
    body: BODY_KINDS.batch,
  },
  { method: 'GET', url: '/v1/events', upstream: UPSTREAMS.query, scope: SCOPES.read, body: BODY_KINDS.none },
  {
    method: 'GET',
    url: '/v1/events/:id',
    upstream: UPSTREAMS.query,
    scope: SCOPES.read,
    body: BODY_KINDS.none,
  },
  {
    method: 'GET',
    url: '/v1/events/:id/status',
    upstream: UPSTREAMS.query,
    scope: SCOPES.read,
    body: BODY_KINDS.none,
  },
  { method: 'GET', url: '/v1/stats', upstream: UPSTREAMS.query, scope: SCOPES.read, body: BODY_KINDS.none },
  {
    method: 'GET',
    url: '/v1/deadletters',
    upstream: UPSTREAMS.query,
    scope: SCOPES.read,
    body: BODY_KINDS.none,
  },
  // The body is a small JSON filter: the single-event body limit is plenty.
  {
    method: 'POST',
    url: '/v1/deadletters/replay',
    upstream: UPSTREAMS.ingest,
    scope: SCOPES.admin,
    body: BODY_KINDS.event,
  },
]);

export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
