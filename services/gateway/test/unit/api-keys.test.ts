import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, SCOPES } from '@splitstream/shared';
import type { FastifyBaseLogger } from 'fastify';
import { ApiKeyStore, hashApiKey, loadApiKeys, parseApiKeys } from '../../src/auth/api-keys';
import { KeyFileReloader } from '../../src/auth/key-file';

const record = (id: string, key: string, tenant = 'acme') => ({
  id,
  hash: hashApiKey(key),
  tenant,
  scopes: [SCOPES.read],
});

describe('API keys', () => {
  it('resolves a presented key by its hash, and nothing else', () => {
    const store = new ApiKeyStore([record('a', 'key-a'), record('b', 'key-b', 'globex')]);
    expect(store.resolve('key-b')?.tenant).toBe('globex');
    expect(store.resolve('key-a')?.id).toBe('a');
    expect(store.resolve('key-c')).toBeUndefined();
    expect(store.resolve('')).toBeUndefined();
    expect(store.resolve(hashApiKey('key-a'))).toBeUndefined();
  });

  it('loads keys from a file and from the environment together', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-keys-'));
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify([record('a', 'key-a')]));
    const keys = loadApiKeys({ file, inline: JSON.stringify([record('b', 'key-b')]) });
    expect(keys.map((k) => k.id)).toEqual(['a', 'b']);
    expect(loadApiKeys({ file: '', inline: '' })).toEqual([]);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['not an array', '{}', /invalid API key list/],
    [
      'a plaintext key instead of a hash',
      JSON.stringify([{ id: 'a', hash: 'secret', tenant: 't', scopes: [] }]),
      /hash/,
    ],
    ['an unknown scope', JSON.stringify([{ ...record('a', 'k'), scopes: ['events:everything'] }]), /scopes/],
    ['an unknown field', JSON.stringify([{ ...record('a', 'k'), key: 'plaintext' }]), /invalid API key list/],
  ])('refuses a key list with %s', (_what, json, message) => {
    expect(() => parseApiKeys(json, 'API_KEYS')).toThrow(ConfigError);
    expect(() => parseApiKeys(json, 'API_KEYS')).toThrow(message);
  });

  it('refuses a missing file and duplicate ids', () => {
    expect(() => loadApiKeys({ file: '/nonexistent/keys.json', inline: '' })).toThrow(/API_KEYS_FILE/);
    const twice = JSON.stringify([record('a', 'k1'), record('a', 'k2')]);
    expect(() => loadApiKeys({ file: '', inline: twice })).toThrow(/appears twice/);
  });
});

describe('API key file reload', () => {
  const setup = () => {
    const dir = mkdtempSync(join(tmpdir(), 'gateway-reload-'));
    const file = join(dir, 'keys.json');
    writeFileSync(file, JSON.stringify([record('a', 'key-a')]));
    const lines: Record<string, unknown>[] = [];
    const line = (level: number) => (fields: object, msg: string) => lines.push({ level, ...fields, msg });
    const log = { info: line(30), error: line(50) } as unknown as FastifyBaseLogger;
    const version = KeyFileReloader.versionOf(file);
    const store = new ApiKeyStore(loadApiKeys({ file, inline: JSON.stringify([record('env', 'key-env')]) }));
    const reloader = new KeyFileReloader(
      { file, inline: JSON.stringify([record('env', 'key-env')]), store, intervalMs: 1_000, log },
      version,
    );
    return { dir, file, store, reloader, lines };
  };

  it('applies a changed file, written in place or renamed over, keeping the inline keys', () => {
    const { dir, file, store, reloader } = setup();
    expect(reloader.check()).toBe('unchanged');
    writeFileSync(file, JSON.stringify([record('a', 'key-a'), record('b', 'key-b')]));
    expect(reloader.check()).toBe('reloaded');
    expect(store.resolve('key-b')?.id).toBe('b');
    const next = join(dir, 'next.json');
    writeFileSync(next, JSON.stringify([record('b', 'key-b')]));
    renameSync(next, file);
    expect(reloader.check()).toBe('reloaded');
    expect(store.resolve('key-a')).toBeUndefined();
    expect(store.resolve('key-b')?.id).toBe('b');
    expect(store.resolve('key-env')?.id).toBe('env');
  });

  it.each([
    ['malformed', (file: string) => writeFileSync(file, '[{"id": "sk_plaintext_oops"')],
    ['invalid', (file: string) => writeFileSync(file, JSON.stringify([{ id: 'a', hash: 'sk_live_x' }]))],
    ['removed', (file: string) => rmSync(file)],
  ])('keeps the last good keys when the file is %s, with one error line without secrets', (_what, damage) => {
    const { file, store, reloader, lines } = setup();
    damage(file);
    expect(reloader.check()).toBe('kept');
    expect(reloader.check()).toBe('unchanged');
    expect(store.resolve('key-a')?.id).toBe('a');
    const errors = lines.filter((line) => line.level === 50);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(/keeping the last good keys/);
    expect(JSON.stringify(errors)).not.toMatch(/sk_/);
    writeFileSync(file, JSON.stringify([record('c', 'key-c')]));
    expect(reloader.check()).toBe('reloaded');
    expect(store.resolve('key-c')?.id).toBe('c');
  });
});
