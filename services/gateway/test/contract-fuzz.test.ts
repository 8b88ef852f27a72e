/**
 * API contract fuzzing: schemathesis (pinned, installed under .local/ by infra/scripts/schemathesis.sh)
 * generates requests from the gateway's merged /openapi.json, valid and invalid ones, and checks
 * every answer against the document with all of its checks: the document must say exactly what the
 * services accept, and the services must accept exactly what it says. Real processes (the built
 * dist of writer, ingest, query and gateway) on this suite's own topic, consumer group and tenant.
 * The full output is kept in test-artifacts/schemathesis-output.txt, the JUnit report beside it.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { openApiPath, PUBLIC_ROUTES, SCOPES } from '@splitstream/shared';
import { REPO_ROOT, type System, spawnSystem, testApiKey, uniqueName } from '@splitstream/shared/testing';

const run = promisify(execFile);
const ARTIFACTS = join(__dirname, '..', 'test-artifacts');
/** schemathesis.toml (cache off, two statuses stated) and hooks.py (gzip bodies, the 503 check). */
const SCHEMATHESIS_DIR = join(__dirname, 'schemathesis');

/** Fixed, so a failure found in CI is reproduced locally by the same command. */
const SEED = 20_261_126;
/** Per operation and phase: about a minute and a half for the whole run on 2 cores. */
const MAX_EXAMPLES = 50;
// About 2 minutes alone on 2 cores; room for a package suite running beside it in npm test.
const RUN_TIMEOUT_MS = 420_000;
const INSTALL_TIMEOUT_MS = 300_000;
/**
 * Generated tokens name offsets no write produced: each read with one waits maxWaitMs and answers
 * the documented 503. A small cap keeps those waits short; the document states the cap it serves.
 */
const READ_WAIT = { READ_MAX_WAIT_MS: '50', READ_MAX_WAIT_CAP_MS: '100' };

/** The parts of schemathesis's closing summary the suite reports and asserts. */
function summaryOf(output: string) {
  const summary = output.slice(Math.max(0, output.lastIndexOf('SUMMARY')));
  const number = (pattern: RegExp) => Number(pattern.exec(summary)?.[1] ?? Number.NaN);
  return {
    text: summary.trim(),
    operations: number(/Tested:\s+(\d+)/),
    cases: number(/(\d+) generated/),
    seed: number(/Seed:\s+(\d+)/),
    failures: number(/(\d+) failures?/) || 0,
  };
}

describe('contract fuzzing through the gateway (schemathesis)', () => {
  const tenant = uniqueName('fuzz');
  // Every scope, so every operation can answer its success responses, not only 403.
  const apiKey = testApiKey('fuzz-all', tenant, [SCOPES.read, SCOPES.write, SCOPES.admin]);
  const { key } = apiKey;
  let system: System;
  let schemathesis: string;

  beforeAll(async () => {
    // Idempotent: a no-op once the pinned version is in .local/.
    const installed = run('bash', [join(REPO_ROOT, 'infra', 'scripts', 'schemathesis.sh')], {
      timeout: INSTALL_TIMEOUT_MS,
    });
    system = await spawnSystem({
      prefix: 'fuzz',
      keys: [apiKey],
      query: READ_WAIT,
      // The fuzzer's own requests must not use up the key's budget (the 429 itself is covered by
      // test/services.test.ts).
      gateway: { RATE_LIMIT_MAX: '1000000' },
    });
    schemathesis = (await installed).stdout.trim();
  }, INSTALL_TIMEOUT_MS + 60_000);

  afterAll(async () => {
    await system?.stop();
  });

  it(
    'finds no failure with every check, a fixed seed and a bounded number of examples',
    async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      const args = [
        '--config-file',
        join(SCHEMATHESIS_DIR, 'schemathesis.toml'),
        'run',
        `${system.gateway.url}/openapi.json`,
        '--checks',
        'all',
        '--seed',
        String(SEED),
        '--max-examples',
        String(MAX_EXAMPLES),
        '--header',
        `Authorization: Bearer ${key}`,
        // One worker: with more, CPython 3.11's ast module fails inside hypothesis's threads
        // ("AST constructor recursion depth mismatch"); two cores gain little anyway.
        '--workers',
        '1',
        // Every failure of a run, not only the first of each operation.
        '--continue-on-failure',
        '--request-timeout',
        '15',
        '--report',
        'junit',
        '--report-junit-path',
        join(ARTIFACTS, 'schemathesis-junit.xml'),
        '--no-color',
        // No example database between runs: a run depends on its seed alone.
        '--generation-database',
        'none',
      ];
      // schemathesis and hypothesis keep files in ./.schemathesis and ./.hypothesis: a scratch folder,
      // not the package's (and no __pycache__ beside hooks.py).
      const cwd = mkdtempSync(join(tmpdir(), 'schemathesis-'));
      let output: string;
      let code = 0;
      try {
        const { stdout, stderr } = await run(schemathesis, args, {
          cwd,
          timeout: RUN_TIMEOUT_MS,
          maxBuffer: 64 * 1024 * 1024,
          env: {
            ...process.env,
            COLUMNS: '120',
            PYTHONPATH: SCHEMATHESIS_DIR,
            PYTHONDONTWRITEBYTECODE: '1',
            SCHEMATHESIS_HOOKS: 'hooks',
          },
        });
        output = stdout + stderr;
      } catch (error) {
        const failed = error as { stdout?: string; stderr?: string; code?: number; killed?: boolean };
        output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
        code = typeof failed.code === 'number' ? failed.code : -1;
        if (failed.killed) output += `\n(killed after ${RUN_TIMEOUT_MS} ms)`;
      } finally {
        rmSync(cwd, { recursive: true, force: true });
      }
      // The key is this run's only, but has no place in a kept artifact either.
      const kept = output.replaceAll(key, '<API key>');
      writeFileSync(join(ARTIFACTS, 'schemathesis-output.txt'), kept);
      const summary = summaryOf(kept);
      process.stdout.write(
        `schemathesis: ${summary.operations} operations, ${summary.cases} cases, seed ${summary.seed}, ` +
          `${summary.failures} failures (exit ${code}); full output in test-artifacts/schemathesis-output.txt\n` +
          `${summary.text}\n`,
      );
      const operations = new Set(PUBLIC_ROUTES.map((r) => `${r.method} ${openApiPath(r.url)}`)).size;
      expect({
        code,
        operations: summary.operations,
        seed: summary.seed,
        failures: summary.failures,
        // Warnings (a pattern it cannot use, an operation it cannot reach) mean less was tested.
        warnings: /={3,} WARNINGS/.test(kept) ? kept.slice(kept.indexOf('WARNINGS')) : 'none',
      }).toEqual({ code: 0, operations, seed: SEED, failures: 0, warnings: 'none' });
      // A run that generated next to nothing would pass as easily: it must have tried every operation hard.
      expect(summary.cases).toBeGreaterThan(operations * MAX_EXAMPLES);
    },
    RUN_TIMEOUT_MS + 30_000,
  );
});
