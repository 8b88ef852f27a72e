import { Type } from '@sinclair/typebox';
import { ValidationError } from './errors';

/** Read-your-writes token: per partition, the highest offset a write produced on a topic. */
export interface ConsistencyToken {
  topic: string;
  /** partition → offset (decimal string, Kafka offsets are int64). */
  offsets: Record<string, string>;
}

/*
 * Text form: the topic name in hex, then `p<partition>o<offset>` per partition (ascending; nothing
 * more when a write produced no message), e.g. `6576656e7473p0o1041p3o77` for offsets 1041 and 77
 * of partitions 0 and 3 of topic `events`. Letters and digits only, so that it travels unencoded in a
 * query string and in a header (schemathesis, too, draws header values from letters and digits), and
 * so that a regular expression says exactly which values are tokens: the OpenAPI document gives it as
 * the `pattern` of every `after` parameter and every token answered, with the deployment's topic.
 * Decimal numbers without leading zeros: a partition up to 10 digits, an offset up to 19 (int64); a
 * larger one is well-formed but names an offset no write produced, so a read waits for it in vain.
 */
const OFFSETS = '(?:p(?:0|[1-9][0-9]{0,9})o(?:0|[1-9][0-9]{0,18}))*';
/** Kafka topic names: 1..249 of [A-Za-z0-9._-], so 2..498 hex digits. */
const TOKEN = new RegExp(`^((?:[0-9a-f]{2}){1,249})(${OFFSETS})$`);
const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
const ENTRY = /p([0-9]+)o([0-9]+)/g;

const topicHex = (topic: string) => Buffer.from(topic, 'utf8').toString('hex');

/** Longest token accepted: hundreds of partitions fit. */
export const TOKEN_MAX_LENGTH = 4096;

/** The `pattern` of a token for `topic` (the one topic a deployment's ingest writes and query reads). */
export function tokenPattern(topic: string): string {
  return `^${topicHex(topic)}${OFFSETS}$`;
}

/** A consistency token of `topic` as a parameter or answer schema: the same rule validates and documents it. */
export function tokenSchema(topic: string, description: string) {
  return Type.String({
    maxLength: TOKEN_MAX_LENGTH,
    pattern: tokenPattern(topic),
    description: `${description}. Form: \`${topicHex(topic)}\` (topic ${topic} in hex), then \`p<partition>o<offset>\` per partition, as ingest issued it`,
    examples: [encodeToken({ topic, offsets: { '0': '1041', '3': '77' } })],
  });
}

export function encodeToken(token: ConsistencyToken): string {
  const entries = Object.entries(token.offsets)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([partition, offset]) => `p${partition}o${offset}`);
  return `${topicHex(token.topic)}${entries.join('')}`;
}

export function decodeToken(value: string): ConsistencyToken {
  const match = value.length <= TOKEN_MAX_LENGTH ? TOKEN.exec(value) : null;
  const topic = match ? Buffer.from(match[1] as string, 'hex').toString('utf8') : '';
  if (!match || !TOPIC_NAME.test(topic)) {
    throw new ValidationError('consistency token is not one this service issued', {
      errors: [{ field: 'after', message: 'is not a valid consistency token' }],
    });
  }
  const offsets: Record<string, string> = {};
  for (const [, partition, offset] of (match[2] as string).matchAll(ENTRY)) {
    mergeOffsets(offsets, Number(partition), offset as string);
  }
  return { topic, offsets };
}

/** Merges tokens (e.g. of several writes) keeping the highest offset per partition. */
export function mergeOffsets(into: Record<string, string>, partition: number, offset: string): void {
  const current = into[partition];
  if (current === undefined || BigInt(offset) > BigInt(current)) into[partition] = offset;
}
