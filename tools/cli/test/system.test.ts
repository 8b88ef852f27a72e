import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatApiKeys, SCOPES } from '@splitstream/shared';
import {
  type System,
  spawnSystem,
  testApiKey,
  testInfra,
  uniqueName,
  waitFor,
} from '@splitstream/shared/testing';
import { runCli } from './support';

/**
 * A key created or revoked with the CLI must apply at the gateway within this. The gateway re-reads
 * the file within API_KEYS_RELOAD_MS (250 ms); the rest is room for a CI machine running suites
 * side by side (it measures well under a second on a quiet one).
 */
const APPLIES_WITHIN_MS = 3_000;

describe('the operator CLI against a running system', () => {
  const tenant = uniqueName('cli-acme');
  const dir = mkdtempSync(join(tmpdir(), 'splitstream-cli-'));
  const file = join(dir, 'api-keys.json');
  const env = { API_KEYS_FILE: file };
  let system: System;
  const admin = testApiKey('cli-admin', tenant, [SCOPES.admin]);
  const readWriteKey = testApiKey('cli-inline', tenant, [SCOPES.read, SCOPES.write]);

  const statusArgs = () => [
    'status',
    ...system.services.flatMap((s) => [`--${s.name}`, s.url]),
    '--kafka',
    testInfra().brokers.join(','),
    '--store-write',
    testInfra().writeUri,
    '--store-read',
    testInfra().readUri,
  ];
  const listEvents = (key: string) => system.call('/v1/events?limit=1', { key });
  /** Resolves once requests with `key` are answered `status`, failing after APPLIES_WITHIN_MS. */
  const answeredWithin = async (key: string, status: number) => {
    const started = Date.now();
    await waitFor(async () => (await listEvents(key)).status === status, {
      timeoutMs: APPLIES_WITHIN_MS,
      intervalMs: 20,
      what: `HTTP ${status} with the key`,
    });
    process.stdout.write(
      `cli keys: HTTP ${status} through the gateway ${Date.now() - started} ms after the CLI exited\n`,
    );
  };

  beforeAll(async () => {
    writeFileSync(file, formatApiKeys([]));
    system = await spawnSystem({
      prefix: 'cli',
      keys: [readWriteKey, admin],
      gateway: { API_KEYS_FILE: file },
    });
  }, 120_000);

  afterAll(async () => {
    await system?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  let created: { id: string; key: string };

  it('creates a key that the gateway accepts at once, storing only its hash', async () => {
    const result = await runCli(
      ['keys', 'create', '--tenant', tenant, '--scopes', 'events:read,events:write'],
      env,
    );
    expect(result.code).toBe(0);
    const key = result.stdout.trim();
    expect(key).toMatch(/^sk_[A-Za-z0-9_-]{32}$/);
    const id = /created key (\S+)/.exec(result.stderr)?.[1] as string;
    created = { id, key };
    await answeredWithin(key, 200);
    const stored = readFileSync(file, 'utf8');
    expect(stored).not.toContain(key);
    expect(JSON.parse(stored)).toEqual([
      expect.objectContaining({ id, tenant, scopes: ['events:read', 'events:write'] }),
    ]);
    // The inline key (API_KEYS) is kept beside the file's on reload.
    expect((await system.call('/v1/events?limit=1')).status).toBe(200);
  });

  it('lists keys without their secret', async () => {
    const result = await runCli(['keys', 'list'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(created.id);
    expect(result.stdout).toContain(tenant);
    expect(result.stdout).toContain(created.key.slice(0, 11));
    expect(result.stdout).not.toContain(created.key);
  });

  it('keeps the last good keys when the file is malformed, and the CLI leaves it alone', async () => {
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, '[{"id": "half a file"');
    await waitFor(() => system.gateway.output().includes('keeping the last good keys'), {
      timeoutMs: 5_000,
      what: 'the gateway to log the bad file',
    });
    expect(system.gateway.output()).not.toContain(created.key);
    expect((await listEvents(created.key)).status).toBe(200);
    const refused = await runCli(['keys', 'create', '--tenant', tenant, '--scopes', 'events:read'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(file);
    expect(readFileSync(file, 'utf8')).toBe('[{"id": "half a file"');
    writeFileSync(file, good);
  });

  it('revokes a key: refused (401) at once', async () => {
    const result = await runCli(['keys', 'revoke', created.id], env);
    expect(result.code).toBe(0);
    await answeredWithin(created.key, 401);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual([]);
    expect((await runCli(['keys', 'revoke', created.id], env)).code).toBe(1);
  });

  it('status: exit 0 with every part up and ready, and the writer lag once it stored an event', async () => {
    // The writer reports lag for the partitions it has consumed from: give it one event.
    const id = uniqueName('cli-ev');
    const posted = await system.call('/v1/events', {
      method: 'POST',
      body: JSON.stringify({ specversion: '1.0', id, source: '/cli/test', type: 'com.example.cli.tested' }),
    });
    expect(posted.status).toBe(202);
    const { token } = (await posted.json()) as { token: string };
    expect((await system.call(`/v1/events/${id}?after=${encodeURIComponent(token)}`)).status).toBe(200);
    const result = await runCli(statusArgs());
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain('all 7 parts up and ready');
    const writerRow = result.stdout.split('\n').find((line) => line.startsWith('writer ')) as string;
    expect(writerRow).toContain(system.writer.url);
    expect(writerRow).toMatch(/ ready +0 /);
    // The query's staleness metric may not exist yet: then "n/a", never an error.
    const queryRow = result.stdout.split('\n').find((line) => line.startsWith('query ')) as string;
    expect(queryRow).toMatch(/ ready +- +(n\/a|[0-9.]+ s) /);
  });

  it('replay: a dry run names the dead letter, the replay re-produces it, a second one leaves it out', async () => {
    // U+0000 in a string value is refused by the local store: the writer dead-letters the event.
    const id = uniqueName('cli-dead');
    const posted = await system.call('/v1/events', {
      method: 'POST',
      body: JSON.stringify({
        specversion: '1.0',
        id,
        source: '/cli/test',
        type: 'com.example.cli.dead',
        data: { note: 'a\u0000b' },
      }),
    });
    expect(posted.status).toBe(202);
    await waitFor(
      async () => {
        const page = (await (await system.call('/v1/deadletters?limit=10')).json()) as {
          items?: { id?: string }[];
        };
        return page.items?.some((item) => item.id === id);
      },
      { timeoutMs: 20_000, intervalMs: 200, what: 'the dead letter' },
    );
    const replay = (...args: string[]) =>
      runCli(
        ['replay', '--gateway', system.gateway.url, '--reason', 'rejected-by-store', '--json', ...args],
        {
          SPLITSTREAM_API_KEY: admin.key,
        },
      );
    const dry = await replay('--dry-run');
    expect({ code: dry.code, stderr: dry.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, matched: 1, replayed: 1, ids: [id] });
    const done = await replay();
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({
      dryRun: false,
      replayed: 1,
      ids: [id],
      token: expect.any(String),
    });
    // The replayed dead letter is left out now; the local store refuses the event again, so the
    // writer may have dead-lettered a new copy by now (matched 1), never the old one twice.
    const again = JSON.parse((await replay('--dry-run')).stdout) as {
      matched: number;
      alreadyReplayed: number;
    };
    expect(again.alreadyReplayed).toBe(1);
    expect(again.matched).toBeLessThanOrEqual(1);
    // The read-write key lacks events:admin: the gateway's 403, said as such, exit 1.
    const refused = await runCli(['replay', '--gateway', system.gateway.url, '--key', readWriteKey.key]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/the gateway answered 403: .*events:admin/);
  });

  it('tail: shows an event accepted after it started, then stops at --max', async () => {
    let started: () => void = () => undefined;
    const tailing = new Promise<void>((resolve) => {
      started = resolve;
    });
    const run = runCli(
      [
        'tail',
        '--kafka',
        testInfra().brokers.join(','),
        '--topic',
        system.topic,
        '--tenant',
        tenant,
        '--max',
        '1',
        '--json',
      ],
      {},
      30_000,
      (stderr) => {
        if (stderr.includes('tailing')) started();
      },
    );
    await Promise.race([
      tailing,
      run.then((r) => Promise.reject(new Error(`tail ended first: ${r.stderr}`))),
    ]);
    const id = uniqueName('cli-tailed');
    const event = { specversion: '1.0', id, source: '/cli/test', type: 'com.example.cli.tailed' };
    expect((await system.call('/v1/events', { method: 'POST', body: JSON.stringify(event) })).status).toBe(
      202,
    );
    const result = await run;
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      tenant,
      event: { ...event },
      receivedAt: expect.any(String),
    });
    expect(result.stderr).toContain('1 event(s)');
  });

  it('status: non-zero, naming the writer, once the writer process is stopped', async () => {
    await system.writer.kill('SIGTERM');
    const result = await runCli(statusArgs());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^problem: writer down \(connection refused\)/m);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stdout).toContain('1 of 7 parts have a problem');
  });
});
