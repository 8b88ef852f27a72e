// Adds up every package's jest results into one closing line: "N passed, N failed, N skipped".
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
for (const dir of dirs) {
  const pkg = join(root, dir, 'package.json');
  if (!existsSync(pkg) || !require(pkg).scripts?.test) continue;
  const file = join(root, dir, 'test-artifacts/jest-results.json');
  if (!existsSync(file)) {
    missing.push(dir);
    continue;
  }
  const results = JSON.parse(readFileSync(file, 'utf8'));
  passed += results.numPassedTests;
  failed += results.numFailedTests + results.numRuntimeErrorTestSuites;
  skipped += results.numPendingTests + results.numTodoTests;
}
if (missing.length > 0) console.log(`no test results from: ${missing.join(', ')}`);
console.log(`${passed} passed, ${failed + missing.length} failed, ${skipped} skipped`);
process.exit(failed + missing.length > 0 ? 1 : 0);
