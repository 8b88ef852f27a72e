import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashApiKey, parseApiKeys, SCOPES } from '@splitstream/shared';
import {
  formatKeyList,
  issueKey,
  KeyFileError,
  readKeyFile,
  withKeyFileLock,
  withoutKey,
  writeKeyFile,
} from '../../src/keys';
import { main } from '../../src/main';

const fixed = { now: new Date('2026-12-02T05:00:00.000Z'), random: (size: number) => Buffer.alloc(size, 7) };

async function cli(argv: string[], file: string) {
  let out = '';
  let err = '';
  const io = {
    out: (text: string) => {
      out += text;
    },
    err: (text: string) => {
      err += text;
    },
  };
  const code = await main(argv, { API_KEYS_FILE: file }, io);
  return { code, out, err };
}

describe('issuing and revoking keys', () => {
  it('issues a key whose record the gateway accepts, with its hash and never the key', () => {
    const { key, record } = issueKey([], { tenant: 'acme', scopes: [SCOPES.read, SCOPES.write] }, fixed);
    expect(key).toBe(`sk_${Buffer.alloc(24, 7).toString('base64url')}`);
    expect(record).toEqual({
      id: 'acme-07070707',
      hash: hashApiKey(key),
      tenant: 'acme',
      scopes: ['events:read', 'events:write'],
      prefix: key.slice(0, 11),
      created: '2026-12-02T05:00:00.000Z',
    });
    expect(parseApiKeys(JSON.stringify([record]), 'test')).toEqual([record]);
    expect(JSON.stringify(record)).not.toContain(key);
  });

  it('refuses a taken id and a tenant the gateway would refuse', () => {
    const { record } = issueKey([], { tenant: 'acme', scopes: [SCOPES.read], id: 'one' });
    expect(() => issueKey([record], { tenant: 'acme', scopes: [SCOPES.read], id: 'one' })).toThrow(
      /exists already/,
    );
    expect(() => issueKey([], { tenant: 'no spaces', scopes: [SCOPES.read] })).toThrow(/tenant/);
  });

  it('revokes by id, and says when there is no such key', () => {
    const a = issueKey([], { tenant: 'acme', scopes: [SCOPES.read], id: 'a' }).record;
    const b = issueKey([], { tenant: 'acme', scopes: [SCOPES.read], id: 'b' }).record;
    expect(withoutKey([a, b], 'a')).toEqual([b]);
    expect(() => withoutKey([a, b], 'c')).toThrow(KeyFileError);
  });

  it('lists id, tenant, scopes, prefix and created, also for records written by hand', () => {
    const { record } = issueKey([], { tenant: 'acme', scopes: [SCOPES.read], rateLimit: 10 }, fixed);
    const old = { id: 'acme-rw', hash: hashApiKey('x'), tenant: 'acme', scopes: [SCOPES.read, SCOPES.write] };
    expect(formatKeyList([record, old])).toBe(
      [
        'ID             TENANT  SCOPES                    PREFIX        CREATED                   RATE LIMIT',
        `acme-07070707  acme    events:read               ${record.prefix}…  2026-12-02T05:00:00.000Z  10`,
        'acme-rw        acme    events:read,events:write  -             -                         -',
      ].join('\n'),
    );
    expect(formatKeyList([])).toBe('no keys');
  });
});

describe('the key file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'splitstream-cli-keys-'));

  it('is created with mode 600 and read back; a rewrite keeps its mode', () => {
    const file = join(dir, 'nested', 'keys.json');
    expect(readKeyFile(file)).toEqual({ file, records: [], mode: undefined });
    const { record } = issueKey([], { tenant: 'acme', scopes: [SCOPES.read] });
    writeKeyFile({ file, records: [record], mode: undefined });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const read = readKeyFile(file);
    expect(read.records).toEqual([record]);
    writeFileSync(file, readFileSync(file), { mode: 0o644 });
    const shared = join(dir, 'shared.json');
    writeFileSync(shared, '[]\n', { mode: 0o644 });
    writeKeyFile({ ...readKeyFile(shared), records: [record] });
    expect(statSync(shared).mode & 0o777).toBe(0o644);
  });

  it('is left alone when it is not a valid key list', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{"not": "a list"}');
    expect(() => readKeyFile(file)).toThrow(KeyFileError);
    const result = await cli(['keys', 'create', '--tenant', 'acme', '--scopes', 'events:read'], file);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/bad\.json: invalid API key list.*left unchanged/);
    expect(readFileSync(file, 'utf8')).toBe('{"not": "a list"}');
  });
});

describe('keys commands', () => {
  it('create prints only the key on stdout; list never shows it; revoke removes it', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'splitstream-cli-main-')), 'keys.json');
    const created = await cli(
      ['keys', 'create', '--tenant', 'acme', '--scopes', 'events:write', '--id', 'w1'],
      file,
    );
    expect(created.code).toBe(0);
    const key = created.out.trim();
    expect(created.out).toBe(`${key}\n`);
    expect(created.err).toMatch(
      /^created key w1 \(tenant acme, events:write\) in .*; the key above is shown only now/,
    );
    const [record] = JSON.parse(readFileSync(file, 'utf8'));
    expect(record.hash).toBe(hashApiKey(key));

    const listed = await cli(['keys', 'list', '--json'], file);
    expect(JSON.parse(listed.out)).toEqual([
      {
        id: 'w1',
        tenant: 'acme',
        scopes: ['events:write'],
        prefix: key.slice(0, 11),
        created: record.created,
        rateLimit: null,
      },
    ]);
    expect(listed.out).not.toContain(key);
    expect(listed.out).not.toContain(record.hash);

    expect(await cli(['keys', 'revoke', 'w1'], file)).toEqual({
      code: 0,
      out: `revoked key w1 (tenant acme) in ${file}\n`,
      err: '',
    });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([]);
    const again = await cli(['keys', 'revoke', 'w1'], file);
    expect(again.code).toBe(1);
    expect(again.err).toContain('no key with id w1');
  });

  it('answers a usage error with exit code 2 and the usage', async () => {
    const result = await cli(
      ['keys', 'create', '--tenant', 'acme', '--scopes', 'events:all'],
      '/nonexistent',
    );
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/^splitstream: unknown scope events:all/);
    expect(result.err).toContain('Usage: splitstream <command>');
  });
});

describe('the key file lock', () => {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('lets one edit at a time read and write the file, so none is lost', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'splitstream-cli-lock-')), 'keys.json');
    // Each edit reads, waits (as a slow run would), then writes what it read plus its own key.
    const edit = (id: string) =>
      withKeyFileLock(file, async () => {
        const read = readKeyFile(file);
        await sleep(100);
        writeKeyFile({
          ...read,
          records: [...read.records, issueKey([], { tenant: 'acme', scopes: [SCOPES.read], id }).record],
        });
      });
    await Promise.all([edit('k0'), edit('k1'), edit('k2')]);
    expect(
      readKeyFile(file)
        .records.map((r) => r.id)
        .sort(),
    ).toEqual(['k0', 'k1', 'k2']);
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('takes over a lock left by a run that died, and is released when an edit fails', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'splitstream-cli-stale-')), 'keys.json');
    writeFileSync(`${file}.lock`, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    await expect(withKeyFileLock(file, () => 'edited')).resolves.toBe('edited');
    await expect(
      withKeyFileLock(file, () => {
        throw new KeyFileError('no key with id x');
      }),
    ).rejects.toThrow('no key with id x');
    expect(existsSync(`${file}.lock`)).toBe(false);
  });
});
