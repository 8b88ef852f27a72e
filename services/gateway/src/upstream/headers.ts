import type { IncomingHttpHeaders } from 'node:http';

/** Connection-level headers (RFC 9110 §7.6.1) that belong to one hop, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'http2-settings',
]);

/** Client headers the upstream must not see: the client's key (the principal replaces it) and framing. */
const NOT_FORWARDED = new Set([
  'host',
  'content-length',
  'authorization',
  'x-api-key',
  'cookie',
  'x-request-id',
]);

/** Header prefix reserved for the gateway → service proof; a client-sent copy is always dropped. */
export const INTERNAL_PREFIX = 'x-splitstream-';

export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders,
  added: Record<string, string>,
  client: { ip: string; protocol: string },
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  const listed = new Set(
    String(incoming.connection ?? '')
      .toLowerCase()
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || NOT_FORWARDED.has(lower) || listed.has(lower)) continue;
    if (lower.startsWith(INTERNAL_PREFIX)) continue;
    headers[lower] = value;
  }
  const forwardedFor = incoming['x-forwarded-for'];
  headers['x-forwarded-for'] = forwardedFor ? `${forwardedFor}, ${client.ip}` : client.ip;
  headers['x-forwarded-proto'] = client.protocol;
  Object.assign(headers, added);
  return headers;
}

/** Upstream response headers the client gets: everything but the hop-by-hop ones. */
export function clientResponseHeaders(
  upstream: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value === undefined || HOP_BY_HOP.has(name.toLowerCase())) continue;
    headers[name] = value;
  }
  return headers;
}
