/**
 * The gateway's API key file: one format for the gateway that loads it, the operator CLI that edits
 * it and the dev-key script that seeds it. A key is never stored, only its SHA-256 (`hashApiKey`).
 */
import { createHash } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from './errors';
import { SCOPES } from './internal-auth';

const ScopeSchema = Type.Union(Object.values(SCOPES).map((scope) => Type.Literal(scope)));

/** One entry of the key file. */
export const ApiKeyRecordSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, description: 'Names the key in logs and rate limits' }),
    hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 hex of the key' }),
    tenant: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    scopes: Type.Array(ScopeSchema, { uniqueItems: true }),
    rateLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'Requests per window for this key' })),
    prefix: Type.Optional(
      Type.String({
        maxLength: 16,
        description: 'First characters of the key, to recognise it (not enough to use it)',
      }),
    ),
    created: Type.Optional(Type.String({ maxLength: 64, description: 'When the key was issued (ISO 8601)' })),
  },
  { additionalProperties: false },
);
export type ApiKeyRecord = Static<typeof ApiKeyRecordSchema>;
export const ApiKeyFileSchema = Type.Array(ApiKeyRecordSchema);

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Parses and validates a key list; a bad list is a configuration error. The message never quotes
 * the text (V8's JSON errors do, and a file may hold a plaintext key by mistake).
 */
export function parseApiKeys(json: string, origin: string): ApiKeyRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    const position = /position \d+/.exec((error as Error).message)?.[0];
    throw new ConfigError(`${origin}: not JSON${position ? ` (at ${position})` : ''}`);
  }
  const errors = [...Value.Errors(ApiKeyFileSchema, parsed)];
  if (errors.length > 0) {
    const details = errors.slice(0, 5).map((e) => `${e.path || '(root)'} ${e.message}`);
    throw new ConfigError(`${origin}: invalid API key list: ${details.join('; ')}`);
  }
  const ids = new Set<string>();
  for (const record of parsed as ApiKeyRecord[]) {
    if (ids.has(record.id)) throw new ConfigError(`${origin}: API key id ${record.id} appears twice`);
    ids.add(record.id);
  }
  return parsed as ApiKeyRecord[];
}

/** The file's text for a key list (what parseApiKeys reads back). */
export function formatApiKeys(records: readonly ApiKeyRecord[]): string {
  return `${JSON.stringify(records, null, 2)}\n`;
}
