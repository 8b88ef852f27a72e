/** The poison suite's table: in the test output, and in POISON-REPORT.md on every complete run. */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_LIMITS } from '@splitstream/shared';
import { REPO_ROOT } from '@splitstream/shared/testing';

const REPORT = join(__dirname, 'POISON-REPORT.md');

export interface Row {
  name: string;
  expected: string;
  outcome: string;
  ok: boolean;
}

/**
 * A table cell: JSON-escaped where the text itself would not show (U+0000, surrogates), a deep
 * pointer's repeated `/a` written once with its count, `|` escaped.
 */
function cell(text: string): string {
  const shown = JSON.stringify(text)
    .slice(1, -1)
    .replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
    .replace(/(\/a){3,}/g, (run) => `(/a)×${run.length / 2}`);
  return (shown.length > 300 ? `${shown.slice(0, 297)}…` : shown).replace(/\|/g, '\\|');
}

export function markdownTable(rows: Row[]): string {
  const lines = ['| case | expected | outcome | as expected |', '|---|---|---|---|'];
  for (const row of rows) {
    lines.push(
      `| ${cell(row.name)} | ${cell(row.expected)} | ${cell(row.outcome)} | ${row.ok ? 'yes' : '**NO**'} |`,
    );
  }
  return lines.join('\n');
}

export function writeReport(rows: Row[], localStore: boolean): void {
  let commit = 'unknown';
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT }).toString().trim();
    commit = git('rev-parse', '--short', 'HEAD');
    // The services ran from dist built from the work tree, which may hold more than the commit.
    if (git('status', '--porcelain', '--', 'services/*/src', 'shared/src') !== '') {
      commit += ' plus uncommitted changes under services/*/src or shared/src';
    }
  } catch {}
  const text = `# Poison suite report

Written by \`services/writer/test/e2e/poison.e2e.test.ts\` on every complete run (the writer's suite in
\`npm test\`). Latest run: ${new Date().toISOString()}, commit ${commit}, store: ${
    localStore ? 'the local store (FerretDB v1 over PostgreSQL)' : 'MongoDB'
  }.

Every case is one event posted through the gateway, all on the same subject (one partition, one
ordering key), in this order, then an ordinary event on that subject. Bodies are JSON text written
by hand (\`\\u0000\` and lone-surrogate escapes, \`-0\` and 2^64 literals). "Read back equal" compares
the JSON value sent with the one \`GET /v1/events/{id}?after=<token>\` answers, as JSON carries them:
\`-0\` reads back as \`0\`, integers beyond 2^53 as the nearest double (2^64 as 18446744073709552000),
key order aside. Dead letters are checked with \`GET /v1/events/{id}/status\` and \`GET /v1/deadletters\`.

${markdownTable(rows)}

Why these outcomes:
- **400 at ingest** for what no MongoDB could store or a JavaScript consumer must not receive: U+0000
  in a key (BSON field names end at U+0000), lone surrogates (BSON strings are UTF-8, which has no form
  for them; the Node driver would silently store U+FFFD instead), nesting deeper than
  ${DATA_LIMITS.maxDepth} levels in \`data\` (MongoDB refuses documents over 100), \`__proto__\` and
  \`constructor.prototype\` keys (prototype pollution); control characters and lone surrogates in
  attributes, which the CloudEvents String type excludes.
- **Dead letter on the local store only**: U+0000 in string values and \`$\`/\`.\` keys are stored by
  MongoDB (5.0 and later for \`$\`/\`.\` field names), but PostgreSQL's JSONB refuses U+0000 (SQLSTATE
  22P05) and FerretDB v1 refuses \`$\`-prefixed and dotted keys (code 2, "invalid key"). The writer
  dead-letters them with reason \`rejected-by-store\` and moves on; a replay into a real MongoDB stores them.
- **The batch of three**: one request, one Kafka send, so most likely one insert of the writer; the
  local store answers a U+0000 refusal for the whole insert (code 1, no per-document write errors) after
  keeping the documents before the culprit and dropping those after it, so the writer must find the
  culprit itself; both neighbours are read back.
`;
  writeFileSync(REPORT, text);
}
