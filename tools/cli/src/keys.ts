import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { type ApiKeyRecord, formatApiKeys, hashApiKey, parseApiKeys, type Scope } from '@splitstream/shared';
import { UsageError } from './usage-error';

/** A key file the CLI cannot use as it is (unreadable, not a valid key list): exit code 1. */
export class KeyFileError extends Error {
  override readonly name = 'KeyFileError';
}

export interface KeyFile {
  file: string;
  records: ApiKeyRecord[];
  /** Mode to keep when rewriting; undefined when the file does not exist yet. */
  mode: number | undefined;
}

/** Reads and validates the file with the gateway's own parser; a missing file is an empty list. */
export function readKeyFile(file: string): KeyFile {
  let text: string;
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { file, records: [], mode: undefined };
    throw new KeyFileError(`${file}: ${(error as Error).message}`);
  }
  try {
    return { file, records: parseApiKeys(text, file), mode };
  } catch (error) {
    throw new KeyFileError(`${(error as Error).message} (left unchanged; fix or remove it first)`);
  }
}

/**
 * Writes the list whole, to a temporary file renamed over the old one, so the gateway never reads
 * half a file. The list is parsed back first: what is written is what the gateway accepts.
 */
export function writeKeyFile({ file, records, mode }: KeyFile): void {
  const text = formatApiKeys(records);
  parseApiKeys(text, file);
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: mode ?? 0o600 });
  if (mode !== undefined) chmodSync(temporary, mode);
  renameSync(temporary, file);
}

/** A lock older than this was left by a process that died: it is taken over. */
const STALE_LOCK_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

/**
 * Runs `edit` (read, change, write the file) holding `<file>.lock`, so two CLI runs at once cannot
 * both read the same list and lose one another's key.
 */
export async function withKeyFileLock<T>(file: string, edit: () => T | Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  mkdirSync(dirname(file), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx'));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST')
        throw new KeyFileError(`${lock}: ${(error as Error).message}`);
      const age = (() => {
        try {
          return Date.now() - statSync(lock).mtimeMs;
        } catch {
          return 0;
        }
      })();
      if (age > STALE_LOCK_MS) rmSync(lock, { force: true });
      else if (Date.now() > deadline)
        throw new KeyFileError(
          `${lock} is held by another run (remove it if no splitstream command is running)`,
        );
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    return await edit();
  } finally {
    rmSync(lock, { force: true });
  }
}

export interface NewKey {
  tenant: string;
  scopes: Scope[];
  id?: string | undefined;
  rateLimit?: number | undefined;
}

/** Characters of the key kept in the file to recognise it: "sk_" and 8 of its 32 random ones. */
export const KEY_PREFIX_LENGTH = 11;

/** A fresh key and its record (hash only); the id must not be taken. */
export function issueKey(
  existing: readonly ApiKeyRecord[],
  wanted: NewKey,
  { now = new Date(), random = randomBytes }: { now?: Date; random?: (size: number) => Buffer } = {},
): { key: string; record: ApiKeyRecord } {
  const id = wanted.id ?? `${wanted.tenant.slice(0, 100)}-${random(4).toString('hex')}`;
  if (existing.some((r) => r.id === id)) throw new UsageError(`a key with id ${id} exists already`);
  const key = `sk_${random(24).toString('base64url')}`;
  const record: ApiKeyRecord = {
    id,
    hash: hashApiKey(key),
    tenant: wanted.tenant,
    scopes: wanted.scopes,
    ...(wanted.rateLimit ? { rateLimit: wanted.rateLimit } : {}),
    prefix: key.slice(0, KEY_PREFIX_LENGTH),
    created: now.toISOString(),
  };
  try {
    parseApiKeys(JSON.stringify([record]), 'the new key');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return { key, record };
}

/** The list without `id`; throws when there is no such key. */
export function withoutKey(records: readonly ApiKeyRecord[], id: string): ApiKeyRecord[] {
  if (!records.some((r) => r.id === id)) throw new KeyFileError(`no key with id ${id}`);
  return records.filter((r) => r.id !== id);
}

/** What `keys list` shows of a record: everything but the hash. */
export function publicView(record: ApiKeyRecord) {
  return {
    id: record.id,
    tenant: record.tenant,
    scopes: record.scopes,
    prefix: record.prefix ?? null,
    created: record.created ?? null,
    rateLimit: record.rateLimit ?? null,
  };
}

export function formatKeyList(records: readonly ApiKeyRecord[]): string {
  if (records.length === 0) return 'no keys';
  const rows = [
    ['ID', 'TENANT', 'SCOPES', 'PREFIX', 'CREATED', 'RATE LIMIT'],
    ...records.map((r) => [
      r.id,
      r.tenant,
      r.scopes.join(','),
      r.prefix ? `${r.prefix}…` : '-',
      r.created ?? '-',
      r.rateLimit ? String(r.rateLimit) : '-',
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
