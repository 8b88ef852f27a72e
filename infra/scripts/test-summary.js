// Adds up every package's jest results into one closing line: "N passed, N failed, N skipped",
// after a line per failed test (file, name, the gist of the failure): the tail of a CI log says which.
const { readFileSync, existsSync } = require('node:fs');
const { join } = require('node:path');
const { workspaces } = require('../../package.json');

const root = join(__dirname, '../..');
const dirs = workspaces.flatMap((pattern) =>
  pattern.endsWith('/*')
    ? require('node:fs')
        .readdirSync(join(root, pattern.slice(0, -2)))
        .map((name) => join(pattern.slice(0, -2), name))
    : [pattern],
);
let passed = 0;
let failed = 0;
let skipped = 0;
const missing = [];
const failures = [];
// The first lines that say something, up to the stack (jest's colour codes and headings dropped):
// for a deep-equality failure that includes the received value's first lines.
const gist = (messages) => {
  const lines = (messages ?? [])
    .join('\n')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: jest colours its messages
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('●'));
  const stack = lines.findIndex((line) => line.startsWith('at '));
  return lines
    .slice(0, stack < 0 ? lines.length : stack)
    .slice(0, 10)
    .join(' / ')
    .slice(0, 1500);
};
const hasTests = (dir) => {
  const pkg = join(root, dir, 'package.json');
  return existsSync(pkg) && require(pkg).scripts?.test;
};
// Every package's `test` results, and the fault suite's (its own jest run, last in test.sh).
const files = dirs.filter(hasTests).map((dir) => [dir, join(dir, 'test-artifacts/jest-results.json')]);
files.push(['infra (faults)', 'infra/test-artifacts/faults-results.json']);
for (const [name, path] of files) {
  const file = join(root, path);
  if (!existsSync(file)) {
    missing.push(name);
    continue;
  }
  const results = JSON.parse(readFileSync(file, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests + results.numRuntimeErrorTestSuites;
  skipped += results.numPendingTests + results.numTodoTests;
  for (const suite of results.testResults) {
    const where = suite.name.slice(root.length + 1);
    // A suite that could not run (or whose hooks failed) has a message of its own.
    if (suite.status === 'failed' && suite.assertionResults.every((a) => a.status !== 'failed')) {
      failures.push(`${where}: ${gist([suite.message])}`);
    }
    for (const a of suite.assertionResults) {
      if (a.status === 'failed') failures.push(`${where}: ${a.fullName}: ${gist(a.failureMessages)}`);
    }
  }
}
for (const failure of failures) console.log(`FAILED ${failure}`);
if (missing.length > 0) console.log(`no test results from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed + missing.length} failed, ${skipped} skipped`);
process.exit(failed + missing.length > 0 ? 1 : 0);
