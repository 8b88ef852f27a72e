import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError, SCOPES } from '@splitstream/shared';

const ScopeSchema = Type.Union(Object.values(SCOPES).map((scope) => Type.Literal(scope)));

/** One entry of the key file: the key itself is never stored, only its SHA-256. */
export const ApiKeyRecordSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, description: 'Names the key in logs and rate limits' }),
    hash: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'sha256 hex of the key' }),
    tenant: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$' }),
    scopes: Type.Array(ScopeSchema, { uniqueItems: true }),
    rateLimit: Type.Optional(Type.Integer({ minimum: 1, description: 'Requests per window for this key' })),
  },
  { additionalProperties: false },
);
export type ApiKeyRecord = Static<typeof ApiKeyRecordSchema>;
const ApiKeyFileSchema = Type.Array(ApiKeyRecordSchema);

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Parses and validates a key list; a bad list is a configuration error (the gateway refuses to start). */
export function parseApiKeys(json: string, origin: string): ApiKeyRecord[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(`${origin}: not JSON (${(error as Error).message})`);
  }
  const errors = [...Value.Errors(ApiKeyFileSchema, parsed)];
  if (errors.length > 0) {
    const details = errors.slice(0, 5).map((e) => `${e.path || '(root)'} ${e.message}`);
    throw new ConfigError(`${origin}: invalid API key list: ${details.join('; ')}`);
  }
  return parsed as ApiKeyRecord[];
}

export function loadApiKeys(options: { file: string; inline: string }): ApiKeyRecord[] {
  const keys: ApiKeyRecord[] = [];
  if (options.file) {
    let text: string;
    try {
      text = readFileSync(options.file, 'utf8');
    } catch (error) {
      throw new ConfigError(`API_KEYS_FILE ${options.file}: ${(error as Error).message}`);
    }
    keys.push(...parseApiKeys(text, `API_KEYS_FILE ${options.file}`));
  }
  if (options.inline) keys.push(...parseApiKeys(options.inline, 'API_KEYS'));
  const ids = new Set<string>();
  for (const key of keys) {
    if (ids.has(key.id)) throw new ConfigError(`API key id ${key.id} appears twice`);
    ids.add(key.id);
  }
  return keys;
}

/** Resolves a presented key to its record, comparing hashes in constant time. */
export class ApiKeyStore {
  private readonly entries: { record: ApiKeyRecord; hash: Buffer }[];

  constructor(records: ApiKeyRecord[]) {
    this.entries = records.map((record) => ({ record, hash: Buffer.from(record.hash, 'hex') }));
  }

  get size(): number {
    return this.entries.length;
  }

  resolve(presented: string): ApiKeyRecord | undefined {
    const hash = createHash('sha256').update(presented, 'utf8').digest();
    let found: ApiKeyRecord | undefined;
    // Every entry is compared, with no early exit, so the time taken says nothing about which
    // (or whether a) key matched.
    for (const entry of this.entries) {
      if (timingSafeEqual(hash, entry.hash) && found === undefined) found = entry.record;
    }
    return found;
  }
}
