import { Type } from '@sinclair/typebox';
import { ValidationError } from './errors';

/** Read-your-writes token: per partition, the highest offset a write produced on a topic. */
export interface ConsistencyToken {
  topic: string;
  /** partition → offset (decimal string, Kafka offsets are int64). */
  offsets: Record<string, string>;
}

/*
 * Text form: `<topic>:<partition>-<offset>,<partition>-<offset>…` (partitions ascending; nothing
 * after the colon when a write produced no message), e.g. `events:0-1041,3-77`. Plain text rather
 * than an opaque blob so that a regular expression can say exactly which values are tokens: the
 * OpenAPI document gives it as the `pattern` of every `after` parameter and of every token answered.
 * Every character is URL-safe except `:` and `,`, which a query string may carry as they are.
 * Decimal numbers without leading zeros: a partition up to 10 digits, an offset up to 19 (int64);
 * a larger one is well-formed but names an offset no write produced, so a read waits for it in vain.
 */
const PARTITION = '(?:0|[1-9][0-9]{0,9})';
const OFFSET = '(?:0|[1-9][0-9]{0,18})';
const OFFSETS = `(?:${PARTITION}-${OFFSET}(?:,${PARTITION}-${OFFSET})*)?`;
/** Kafka topic names: 1..249 of these characters. */
const TOPIC = '[A-Za-z0-9._-]{1,249}';
const TOKEN = new RegExp(`^(${TOPIC}):(${OFFSETS})$`);

/** Longest token accepted: hundreds of partitions fit. */
export const TOKEN_MAX_LENGTH = 4096;

/** The `pattern` of a token for `topic` (the one topic a deployment's ingest writes and query reads). */
export function tokenPattern(topic: string): string {
  return `^${topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${OFFSETS}$`;
}

/** A consistency token of `topic` as a parameter or answer schema: the same rule validates and documents it. */
export function tokenSchema(topic: string, description: string) {
  return Type.String({
    maxLength: TOKEN_MAX_LENGTH,
    pattern: tokenPattern(topic),
    description: `${description}. Form: \`${topic}:<partition>-<offset>,…\` (as ingest issued it)`,
    examples: [encodeToken({ topic, offsets: { '0': '1041', '3': '77' } })],
  });
}

export function encodeToken(token: ConsistencyToken): string {
  const entries = Object.entries(token.offsets)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([partition, offset]) => `${partition}-${offset}`);
  return `${token.topic}:${entries.join(',')}`;
}

export function decodeToken(value: string): ConsistencyToken {
  const match = value.length <= TOKEN_MAX_LENGTH ? TOKEN.exec(value) : null;
  if (!match) {
    throw new ValidationError('consistency token is not one this service issued', {
      errors: [{ field: 'after', message: 'is not a valid consistency token' }],
    });
  }
  const offsets: Record<string, string> = {};
  for (const entry of (match[2] as string).split(',').filter(Boolean)) {
    const [partition, offset] = entry.split('-') as [string, string];
    mergeOffsets(offsets, Number(partition), offset);
  }
  return { topic: match[1] as string, offsets };
}

/** Merges tokens (e.g. of several writes) keeping the highest offset per partition. */
export function mergeOffsets(into: Record<string, string>, partition: number, offset: string): void {
  const current = into[partition];
  if (current === undefined || BigInt(offset) > BigInt(current)) into[partition] = offset;
}
