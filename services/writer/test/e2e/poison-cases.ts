/**
 * The poison suite's cases, in the order they are posted (all on one subject). Bodies are JSON text
 * written by hand: JSON.stringify cannot write a `-0` or 2^64 literal, and a lone surrogate must be
 * sent as the `\ud800` escape a client would write.
 */
import { DATA_LIMITS } from '@splitstream/shared';

export type Expected =
  /** 400 at ingest naming these fields. */
  | { kind: 'rejected'; fields: string[] }
  | { kind: 'stored' }
  /**
   * Stored by MongoDB; the local store (FerretDB over PostgreSQL) refuses it, so there the writer
   * dead-letters it with this reason, and a replay into a real MongoDB stores it.
   */
  | { kind: 'stored-or-dead-lettered-locally'; localReason: RegExp };

export interface PoisonCase {
  name: string;
  /** `data` as JSON text. */
  data: string;
  /** The `type` attribute as JSON text (default "com.example.poison"). */
  type?: string;
  /** More attributes as JSON text, starting with a comma. */
  attributes?: string;
  /**
   * Posted as the middle event of a batch of three, between two ordinary events: one Kafka send, so
   * most likely one insert of the writer, where the local store keeps the documents before a refused
   * one, drops those after it and names none of them. Both neighbours must be stored.
   */
  inBatch?: boolean;
  expected: Expected;
}

type More = Pick<PoisonCase, 'type' | 'attributes' | 'inBatch'>;

const rejected = (name: string, data: string, fields: string[], more: More = {}): PoisonCase => ({
  name,
  data,
  ...more,
  expected: { kind: 'rejected', fields },
});
const stored = (name: string, data: string, more: More = {}): PoisonCase => ({
  name,
  data,
  ...more,
  expected: { kind: 'stored' },
});
const refusedLocally = (name: string, data: string, localReason: RegExp, more: More = {}): PoisonCase => ({
  name,
  data,
  ...more,
  expected: { kind: 'stored-or-dead-lettered-locally', localReason },
});

export const NEIGHBOUR_DATA = '{"neighbour":true}';
const deep = (levels: number) => `${'{"a":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`;
const tooDeepPointer = `/data${'/a'.repeat(DATA_LIMITS.maxDepth)}`;
const NUL_IN_JSONB = /^rejected-by-store: .*22P05/;
const INVALID_KEY = /^rejected-by-store: .*invalid key/;

export const CASES: PoisonCase[] = [
  refusedLocally('U+0000 in data strings', '{"text":"a\\u0000b","list":["\\u0000"]}', NUL_IN_JSONB),
  refusedLocally(
    'U+0000 in a data string, in the middle of a batch of three',
    '{"text":"\\u0000"}',
    NUL_IN_JSONB,
    {
      inBatch: true,
    },
  ),
  rejected('U+0000 in an object key', '{"ok":1,"nested":{"a\\u0000b":1}}', ['/data/nested/a\u0000b']),
  rejected('U+0000 in attributes (type, an extension)', '{"ok":1}', ['/type', '/note'], {
    type: '"com.example\\u0000poison"',
    attributes: ',"note":"a\\u0000b"',
  }),
  rejected('lone high surrogate in a data string', '{"s":"x\\ud800y"}', ['/data/s']),
  rejected('lone low surrogate in an object key', '{"\\udc00":1}', ['/data/\udc00']),
  rejected('lone surrogate in an attribute', '{"ok":1}', ['/note'], { attributes: ',"note":"\\ud83d"' }),
  stored('surrogate pair (emoji as escapes), the control case', '{"s":"\\ud83d\\ude00","\\ud83d\\ude00":1}', {
    attributes: ',"note":"\\ud83d\\ude00"',
  }),
  rejected('nesting 150 deep', deep(150), [tooDeepPointer]),
  stored(`nesting ${DATA_LIMITS.maxDepth} deep (the bound)`, deep(DATA_LIMITS.maxDepth)),
  stored(
    'an object with 5,000 keys',
    `{${Array.from({ length: 5000 }, (_, i) => `"key${i}":${i}`).join(',')}}`,
  ),
  refusedLocally('`$` keys', '{"$set":{"a":1},"nested":{"$inc":2,"$":3}}', INVALID_KEY),
  refusedLocally('`.` keys', '{"a.b":1,"nested":{"c.d.e":2}}', INVALID_KEY),
  stored('empty keys', '{"":1,"nested":{"":{"":2}}}'),
  stored('1e308 (and its neighbours)', '{"max":1e308,"min":-1e308,"tiny":5e-324}'),
  stored('-0', '{"negativeZero":-0,"list":[-0,-0.0]}'),
  stored(
    'integers beyond 2^63',
    '{"twoTo63":9223372036854775808,"twoTo64":18446744073709551616,"below":-9223372036854775809}',
  ),
  rejected('`__proto__` key', '{"ok":1,"__proto__":{"polluted":true}}', ['/data/__proto__']),
  rejected('`constructor.prototype` keys', '{"constructor":{"prototype":{"polluted":true}}}', [
    '/data/constructor',
  ]),
  stored('`constructor` keys', '{"constructor":"plain","nested":{"constructor":{"name":"x"}}}'),
];
