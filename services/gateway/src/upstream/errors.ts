import { answeredWith } from '@splitstream/shared';

/** An upstream instance failed after the request may have reached it: not retried, 502. */
export class BadGatewayError extends answeredWith(502) {}

/** The upstream did not answer in time: not retried (it may still be working on it), 504. */
export class GatewayTimeoutError extends answeredWith(504) {}

/**
 * How a transport failure happened decides whether a retry on another instance is safe:
 * - `not-sent`: the connection was never established, the instance cannot have seen the request;
 * - `maybe-sent`: the connection broke after the request may have been written;
 * - `timeout`: the instance has the request and has not answered;
 * - `other`: anything else (treated like maybe-sent).
 */
export const FAILURE_KINDS = Object.freeze({
  notSent: 'not-sent',
  maybeSent: 'maybe-sent',
  timeout: 'timeout',
  other: 'other',
});
export type FailureKind = (typeof FAILURE_KINDS)[keyof typeof FAILURE_KINDS];

const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const MAYBE_SENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = error;
  // undici sometimes wraps the socket error in `cause`: look at the whole chain.
  for (let depth = 0; current && depth < 4; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

export function classifyFailure(error: unknown): FailureKind {
  const codes = codesOf(error);
  if (codes.some((c) => NOT_SENT_CODES.has(c))) return FAILURE_KINDS.notSent;
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return FAILURE_KINDS.timeout;
  if (codes.some((c) => MAYBE_SENT_CODES.has(c))) return FAILURE_KINDS.maybeSent;
  return FAILURE_KINDS.other;
}

/** Whether a request that failed this way may be sent again to another instance. */
export function isSafeToRetry(kind: FailureKind, idempotent: boolean): boolean {
  if (kind === FAILURE_KINDS.notSent) return true;
  // A read has no effect: replaying it elsewhere after a broken connection is harmless. A write
  // (POST to ingest) may have been accepted before the connection broke, so it is never replayed.
  return idempotent && kind === FAILURE_KINDS.maybeSent;
}
