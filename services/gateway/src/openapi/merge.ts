import { isDeepStrictEqual } from 'node:util';
import { MAX_HEADER_BYTES, openApiPath, type PublicRoute } from '@splitstream/shared';
import { INTERNAL_PREFIX } from '../upstream/headers';

/** The parts of an OpenAPI 3 document the merge reads and writes; everything else is carried along. */
export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  paths?: Record<string, Record<string, unknown>>;
  components?: Record<string, Record<string, unknown>>;
  tags?: { name: string; [key: string]: unknown }[];
  [key: string]: unknown;
}

interface Operation {
  responses?: Record<string, unknown>;
  parameters?: { in?: string; name?: string; $ref?: string }[];
  security?: unknown;
  requestBody?: unknown;
  [key: string]: unknown;
}

export interface MergeSource {
  /** The upstream the document came from; prefixes its component names when they clash. */
  name: string;
  document: OpenApiDocument;
}

export interface MergeOptions {
  routes: readonly PublicRoute[];
  info: { title: string; version: string; description: string };
  rateLimitWindowSeconds: number;
}

/**
 * Gateway components a service may define too (every service answers the shared problem schema):
 * the service's definition is used instead of being renamed.
 */
const SERVICE_DEFINED = new Set(['schemas/Problem']);

const SECURITY = [{ bearerAuth: [] }, { apiKeyAuth: [] }];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

const retryAfterHeader = {
  description: 'Seconds to wait before retrying',
  schema: { type: 'integer', minimum: 1 },
};

/** What the gateway itself adds: the API key schemes, the problem schema and its error responses. */
function gatewayComponents(rateLimitWindowSeconds: number): Record<string, Record<string, unknown>> {
  const problem = (
    status: number,
    title: string,
    description: string,
    detail?: string,
    headers?: object,
  ) => ({
    description,
    ...(headers ? { headers } : {}),
    content: {
      'application/problem+json': {
        schema: { $ref: '#/components/schemas/Problem' },
        example: { type: 'about:blank', title, status, ...(detail ? { detail } : {}) },
      },
    },
  });
  return {
    securitySchemes: {
      bearerAuth: { type: 'http', scheme: 'bearer', description: 'API key as a bearer token' },
      apiKeyAuth: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'API key in a header' },
    },
    schemas: {
      Problem: {
        type: 'object',
        description: 'RFC 9457 problem details (application/problem+json)',
        required: ['type', 'title', 'status'],
        additionalProperties: true,
        properties: {
          type: { type: 'string' },
          title: { type: 'string' },
          status: { type: 'integer' },
          detail: { type: 'string' },
          instance: { type: 'string' },
          errors: {
            type: 'array',
            items: {
              type: 'object',
              properties: { field: { type: 'string' }, message: { type: 'string' } },
            },
          },
        },
      },
    },
    responses: {
      Unauthorized: problem(
        401,
        'Unauthorized',
        'No API key, or one that is not valid',
        'the API key is not valid',
        {
          'WWW-Authenticate': { description: 'Bearer challenge', schema: { type: 'string' } },
        },
      ),
      Forbidden: problem(
        403,
        'Forbidden',
        'The API key lacks the scope this operation needs',
        'this API key lacks the events:write scope',
      ),
      PayloadTooLarge: problem(
        413,
        'Payload Too Large',
        'The request body is larger than this operation accepts',
        'Request body is too large',
      ),
      // Answered by the HTTP parser before any route runs, for every operation alike.
      RequestHeaderFieldsTooLarge: problem(
        431,
        'Request Header Fields Too Large',
        `The request line and headers together exceed ${MAX_HEADER_BYTES} bytes`,
        `the request line and headers exceed ${MAX_HEADER_BYTES} bytes`,
      ),
      TooManyRequests: problem(
        429,
        'Too Many Requests',
        `The API key used up its request budget for the ${rateLimitWindowSeconds} s window`,
        'rate limit of 6000 requests per window exceeded, retry in 12 seconds',
        {
          'Retry-After': retryAfterHeader,
          'RateLimit-Limit': { description: 'Requests allowed per window', schema: { type: 'integer' } },
          'RateLimit-Remaining': { description: 'Requests left in this window', schema: { type: 'integer' } },
          'RateLimit-Reset': { description: 'Seconds until the window resets', schema: { type: 'integer' } },
        },
      ),
      // 5xx details stay in the gateway's log (the problem body never carries internals).
      BadGateway: problem(502, 'Bad Gateway', 'The service failed while handling the request'),
      ServiceUnavailable: problem(
        503,
        'Service Unavailable',
        'No instance of the service is available, or it cannot serve right now',
        'no ingest instance is available',
        { 'Retry-After': retryAfterHeader },
      ),
      GatewayTimeout: problem(504, 'Gateway Timeout', 'The service did not answer in time'),
    },
  };
}

/** Rewrites every `$ref` to a renamed component, everywhere in a JSON value. */
function rewriteRefs(value: unknown, renames: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => rewriteRefs(v, renames));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof v === 'string' && renames.has(v) ? renames.get(v) : rewriteRefs(v, renames);
  }
  return out;
}

/**
 * One public OpenAPI 3 document from the services' own: only the operations the gateway routes
 * (at their public paths), components merged (a name two services use for different things is
 * prefixed with the service's name), and on every operation the API key security and the error
 * responses the gateway itself can answer.
 */
export function mergeOpenApi(sources: MergeSource[], options: MergeOptions): OpenApiDocument {
  const components = gatewayComponents(options.rateLimitWindowSeconds);
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Map<string, { name: string; [key: string]: unknown }>();

  const replaced = new Set<string>();
  for (const source of sources) {
    const renames = new Map<string, string>();
    const sourceComponents = source.document.components ?? {};
    for (const [section, entries] of Object.entries(sourceComponents)) {
      if (section === 'securitySchemes') continue;
      components[section] ??= {};
      const target = components[section] as Record<string, unknown>;
      for (const [name, definition] of Object.entries(entries ?? {})) {
        const id = `${section}/${name}`;
        if (SERVICE_DEFINED.has(id) && !replaced.has(id)) {
          replaced.add(id);
          target[name] = definition;
          continue;
        }
        if (name in target && !isDeepStrictEqual(target[name], definition)) {
          renames.set(`#/components/${section}/${name}`, `#/components/${section}/${source.name}-${name}`);
        }
      }
    }
    const rewritten = rewriteRefs(
      { components: sourceComponents, paths: source.document.paths ?? {} },
      renames,
    ) as {
      components: Record<string, Record<string, unknown>>;
      paths: Record<string, Record<string, unknown>>;
    };
    for (const [section, entries] of Object.entries(rewritten.components)) {
      if (section === 'securitySchemes') continue;
      components[section] ??= {};
      const target = components[section] as Record<string, unknown>;
      for (const [name, definition] of Object.entries(entries ?? {})) {
        const renamed = renames.get(`#/components/${section}/${name}`);
        target[renamed ? renamed.slice(`#/components/${section}/`.length) : name] = definition;
      }
    }
    for (const route of options.routes) {
      const path = openApiPath(route.url);
      const method = route.method.toLowerCase();
      if (route.upstream !== source.name) continue;
      const operation = rewritten.paths[path]?.[method] as Operation | undefined;
      if (!operation) continue;
      paths[path] ??= {};
      (paths[path] as Record<string, unknown>)[method] = publicOperation(operation, route);
    }
    for (const tag of source.document.tags ?? []) if (!tags.has(tag.name)) tags.set(tag.name, tag);
  }

  // Keep the paths in the order of the route table, each method once.
  const ordered: Record<string, Record<string, unknown>> = {};
  for (const route of options.routes) {
    const path = openApiPath(route.url);
    if (paths[path]) ordered[path] = paths[path];
  }
  for (const item of Object.values(ordered)) {
    for (const key of Object.keys(item)) if (!METHODS.includes(key) && key !== 'parameters') delete item[key];
  }

  return {
    openapi: '3.1.0',
    info: options.info,
    ...(tags.size > 0 ? { tags: [...tags.values()] } : {}),
    security: SECURITY,
    paths: ordered,
    components,
  };
}

function publicOperation(operation: Operation, route: PublicRoute): Operation {
  const responses: Record<string, unknown> = { ...(operation.responses ?? {}) };
  const ref = (name: string) => ({ $ref: `#/components/responses/${name}` });
  // The gateway owns authentication and rate limiting: its answers replace the service's.
  responses['401'] = ref('Unauthorized');
  responses['429'] = ref('TooManyRequests');
  responses['403'] ??= ref('Forbidden');
  if (route.body !== 'none') responses['413'] ??= ref('PayloadTooLarge');
  responses['431'] ??= ref('RequestHeaderFieldsTooLarge');
  responses['502'] ??= ref('BadGateway');
  responses['503'] ??= ref('ServiceUnavailable');
  responses['504'] ??= ref('GatewayTimeout');
  // The internal proof headers are set by the gateway, never by clients: they are not part of the API.
  const parameters = (operation.parameters ?? []).filter(
    (p) =>
      !(p.in === 'header' && typeof p.name === 'string' && p.name.toLowerCase().startsWith(INTERNAL_PREFIX)),
  );
  const description = [operation.description, `Requires an API key with the \`${route.scope}\` scope.`]
    .filter(Boolean)
    .join('\n\n');
  const result: Operation = {
    ...operation,
    description,
    security: SECURITY,
    responses: sortedResponses(responses),
  };
  if (parameters.length > 0) result.parameters = parameters;
  else delete result.parameters;
  return result;
}

function sortedResponses(responses: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
}
