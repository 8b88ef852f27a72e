import { ValidationError } from './errors';

/** Read-your-writes token: per partition, the highest offset a write produced on a topic. */
export interface ConsistencyToken {
  topic: string;
  /** partition → offset (decimal string, Kafka offsets are int64). */
  offsets: Record<string, string>;
}

const VERSION = 1;

export function encodeToken(token: ConsistencyToken): string {
  return Buffer.from(JSON.stringify({ v: VERSION, t: token.topic, o: token.offsets })).toString('base64url');
}

export function decodeToken(value: string): ConsistencyToken {
  const invalid = () =>
    new ValidationError('consistency token is not one this service issued', {
      errors: [{ field: 'after', message: 'is not a valid consistency token' }],
    });
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const { v, t, o } = (parsed ?? {}) as { v?: unknown; t?: unknown; o?: unknown };
  if (v !== VERSION || typeof t !== 'string' || typeof o !== 'object' || o === null) throw invalid();
  const offsets: Record<string, string> = {};
  for (const [partition, offset] of Object.entries(o)) {
    if (!/^\d+$/.test(partition) || typeof offset !== 'string' || !/^\d+$/.test(offset)) throw invalid();
    offsets[partition] = offset;
  }
  return { topic: t, offsets };
}

/** Merges tokens (e.g. of several writes) keeping the highest offset per partition. */
export function mergeOffsets(into: Record<string, string>, partition: number, offset: string): void {
  const current = into[partition];
  if (current === undefined || BigInt(offset) > BigInt(current)) into[partition] = offset;
}
