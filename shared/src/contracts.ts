import { EVENT_LIMITS } from './event';
import { SCOPES, type Scope } from './internal-auth';

/*
 * The public contract between the gateway and the services behind it: which routes exist, who
 * serves each, which scope it needs, how large its body may be, and the header names clients see.
 * The gateway derives its route table and its CORS lists from here; the services answer them.
 */

/** Header names of the public API (lower case, as Node gives them). */
export const PUBLIC_HEADERS = Object.freeze({
  requestId: 'x-request-id',
  apiKey: 'x-api-key',
  authorization: 'authorization',
  contentType: 'content-type',
  contentEncoding: 'content-encoding',
  /** A read-your-writes token, as a header instead of the `after` parameter. */
  consistencyToken: 'consistency-token',
  retryAfter: 'retry-after',
  /** Which store endpoint answered a read, and how fresh it was (query). */
  servedBy: 'splitstream-served-by',
  appliedTime: 'splitstream-applied-time',
  staleness: 'splitstream-staleness-ms',
});

/** `x-request-id` → `X-Request-Id`: how HTTP documents and CORS lists spell a header. */
export function headerDisplayName(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_match, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** Request headers a browser client may send (CORS). */
export const CLIENT_REQUEST_HEADERS: readonly string[] = Object.freeze([
  PUBLIC_HEADERS.authorization,
  PUBLIC_HEADERS.apiKey,
  PUBLIC_HEADERS.contentType,
  PUBLIC_HEADERS.contentEncoding,
  PUBLIC_HEADERS.requestId,
  PUBLIC_HEADERS.consistencyToken,
]);

/** Response headers a browser client may read (CORS), besides the rate-limit ones the gateway adds. */
export const CLIENT_RESPONSE_HEADERS: readonly string[] = Object.freeze([
  PUBLIC_HEADERS.requestId,
  PUBLIC_HEADERS.retryAfter,
  PUBLIC_HEADERS.servedBy,
  PUBLIC_HEADERS.appliedTime,
  PUBLIC_HEADERS.staleness,
]);

export const UPSTREAMS = Object.freeze({ ingest: 'ingest', query: 'query' });
export type UpstreamName = (typeof UPSTREAMS)[keyof typeof UPSTREAMS];

export const BODY_KINDS = Object.freeze({ none: 'none', event: 'event', batch: 'batch', replay: 'replay' });
export type BodyKind = (typeof BODY_KINDS)[keyof typeof BODY_KINDS];

/**
 * The largest body of each kind, in bytes. The gateway's defaults for one event allow twice an
 * event (JSON escaping of the transport); the replay's body is a filter: a thousand ids fit easily.
 */
export const BODY_LIMITS = Object.freeze({
  event: 2 * EVENT_LIMITS.maxEventBytes,
  batch: EVENT_LIMITS.maxBatchBytes,
  replay: 256 * 1024,
});

export interface PublicRoute {
  method: 'GET' | 'POST';
  /** Fastify path syntax (`:id`); the OpenAPI form is derived. */
  url: string;
  upstream: UpstreamName;
  scope: Scope;
  body: BodyKind;
}

const read = (url: string): PublicRoute => ({
  method: 'GET',
  url,
  upstream: UPSTREAMS.query,
  scope: SCOPES.read,
  body: BODY_KINDS.none,
});

/** Every public operation: which upstream serves it and which scope it needs (docs/ARCHITECTURE.md, "Where the contracts live"). */
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
  read('/v1/events'),
  read('/v1/events/:id'),
  read('/v1/events/:id/status'),
  read('/v1/stats'),
  read('/v1/deadletters'),
  read('/v1/pipeline'),
  {
    method: 'POST',
    url: '/v1/deadletters/replay',
    upstream: UPSTREAMS.ingest,
    scope: SCOPES.admin,
    body: BODY_KINDS.replay,
  },
]);

/** `/v1/events/:id` → `/v1/events/{id}`. */
export function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
