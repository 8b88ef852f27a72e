import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, SCOPES } from '@splitstream/shared';
import { ApiKeyStore, hashApiKey, loadApiKeys, parseApiKeys } from '../../src/auth/api-keys';

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
