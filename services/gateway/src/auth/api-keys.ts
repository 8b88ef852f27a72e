import { timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ApiKeyRecord, ConfigError, hashApiKey, parseApiKeys } from '@splitstream/shared';

// The key file's format and hashing are shared with the operator CLI and the dev-key script.
export { type ApiKeyRecord, ApiKeyRecordSchema, hashApiKey, parseApiKeys } from '@splitstream/shared';

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

interface Entry {
  record: ApiKeyRecord;
  hash: Buffer;
}

const entriesOf = (records: readonly ApiKeyRecord[]): Entry[] =>
  records.map((record) => ({ record, hash: Buffer.from(record.hash, 'hex') }));

/** Resolves a presented key to its record, comparing hashes in constant time. */
export class ApiKeyStore {
  private entries: Entry[];

  constructor(records: ApiKeyRecord[]) {
    this.entries = entriesOf(records);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Swaps in a new key list at once (a reloaded key file): requests after this see only these keys. */
  replace(records: ApiKeyRecord[]): void {
    this.entries = entriesOf(records);
  }

  resolve(presented: string): ApiKeyRecord | undefined {
    const hash = Buffer.from(hashApiKey(presented), 'hex');
    let found: ApiKeyRecord | undefined;
    // Every entry is compared, with no early exit, so the time taken says nothing about which
    // (or whether a) key matched.
    for (const entry of this.entries) {
      if (timingSafeEqual(hash, entry.hash) && found === undefined) found = entry.record;
    }
    return found;
  }
}
