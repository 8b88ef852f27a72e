import type { FieldError } from './errors';

/**
 * What `data` may hold beyond "any JSON": MongoDB could never store it, or it is dangerous to
 * JavaScript consumers of the topic. Checked by cloudEventErrors, so ingest, replay and writer agree.
 */
export const DATA_LIMITS = Object.freeze({
  /**
   * Objects and arrays nested in `data`, `data` itself counting one. MongoDB refuses documents
   * nested more than 100 levels; the stored document keeps the event under `event`, two levels
   * above `data` (92 in all at this bound), and the rest is room for any document that wraps an
   * event. The local store, FerretDB, would silently keep deeper ones.
   */
  maxDepth: 90,
  /** MongoDB refuses field names of 255 or more dot-separated words. */
  maxKeyWords: 254,
  /** Longest JSON pointer named in an error (a deep path of long keys would flood the answer). */
  maxPointerLength: 256,
});

/** What the schema of `data` cannot say (JSON Schema has no depth or key-name rules), for OpenAPI. */
export const DATA_DESCRIPTION = `Any JSON value, except what a MongoDB document cannot hold or a JavaScript consumer must not receive (400 naming the JSON pointer): objects and arrays nested more than ${DATA_LIMITS.maxDepth} levels (data itself is one), strings or keys with an unpaired UTF-16 surrogate, keys with U+0000, keys of more than ${DATA_LIMITS.maxKeyWords} dot-separated words, \`__proto__\` keys and \`constructor\` keys whose value holds a \`prototype\` key. U+0000 in string values, \`$\` and \`.\` in keys and empty keys are data like any other. Numbers are IEEE 754 doubles once parsed (integers beyond 2^53 lose precision, -0 reads back as 0).`;

/** An unpaired surrogate has no UTF-8 form: BSON cannot hold it (the Node driver turns it into U+FFFD). */
export const UNPAIRED_SURROGATE = /\p{Cs}/u;

/** One JSON pointer segment (RFC 6901). */
export function pointerSegment(name: string): string {
  return `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/** Every fault of `data` (see DATA_LIMITS), reported at the JSON pointer of the value or key. */
export function dataErrors(data: unknown, add: (path: string, message: string) => void): void {
  const report = (path: string, message: string) =>
    add(
      path.length > DATA_LIMITS.maxPointerLength ? `${path.slice(0, DATA_LIMITS.maxPointerLength)}…` : path,
      message,
    );
  const visit = (value: unknown, path: string, depth: number): void => {
    if (typeof value === 'string') {
      if (UNPAIRED_SURROGATE.test(value)) {
        report(path, 'holds an unpaired UTF-16 surrogate, which UTF-8 and so the store cannot encode');
      }
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    if (depth > DATA_LIMITS.maxDepth) {
      report(
        path,
        `nests objects and arrays deeper than ${DATA_LIMITS.maxDepth} levels below /data (MongoDB stores at most 100 per document)`,
      );
      return;
    }
    if (Array.isArray(value)) {
      for (const [index, item] of value.entries()) visit(item, `${path}/${index}`, depth + 1);
      return;
    }
    for (const [key, item] of Object.entries(value)) {
      const at = `${path}${pointerSegment(key)}`;
      if (key.includes('\u0000')) {
        report(at, 'a key with U+0000 cannot be stored (BSON field names end at U+0000)');
      } else if (UNPAIRED_SURROGATE.test(key)) {
        report(at, 'a key with an unpaired UTF-16 surrogate cannot be encoded as UTF-8 and so stored');
      } else if (key.split('.').length > DATA_LIMITS.maxKeyWords) {
        report(
          at,
          `a key of more than ${DATA_LIMITS.maxKeyWords} dot-separated words cannot be stored by MongoDB`,
        );
      } else if (key === '__proto__') {
        // Fastify refuses it by default too: a JavaScript consumer that copies the object by
        // assignment would replace that object's prototype.
        report(at, 'the key __proto__ is refused: JavaScript consumers would take it as the prototype');
      } else if (
        key === 'constructor' &&
        typeof item === 'object' &&
        item !== null &&
        Object.hasOwn(item, 'prototype')
      ) {
        // The other half of Fastify's default: merged in JavaScript, constructor.prototype is Object.prototype.
        report(
          at,
          'a constructor key holding a prototype key is refused (it reaches Object.prototype when merged)',
        );
      }
      visit(item, at, depth + 1);
    }
  };
  visit(data, '/data', 1);
}

/** Collects field errors under `pointer`, one per field. */
export function fieldErrors(pointer: string) {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  const add = (path: string, message: string) => {
    const field = `${pointer}${path}` || '/';
    if (seen.has(field)) return;
    seen.add(field);
    errors.push({ field, message });
  };
  return { errors, add };
}
