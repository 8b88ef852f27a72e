#!/usr/bin/env node
// `npx splitstream …`: runs the built CLI. Right after `npm install` nothing is built yet: the
// first run builds the CLI and what it depends on (turbo, a few seconds), later runs start at once.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const main = join(__dirname, '..', 'dist', 'main.js');
const shared = join(__dirname, '..', '..', '..', 'shared', 'dist', 'index.js');
if (!existsSync(main) || !existsSync(shared)) {
  process.stderr.write(
    'splitstream: building the CLI first (npx turbo run build --filter=@splitstream/cli...)\n',
  );
  const built = spawnSync(
    'npx',
    ['--no-install', 'turbo', 'run', 'build', '--filter=@splitstream/cli...', '--output-logs=errors-only'],
    {
      cwd: join(__dirname, '..', '..', '..'),
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (built.status !== 0) {
    process.stderr.write('splitstream: the build failed; run `npm run build` at the repository root\n');
    process.exit(1);
  }
}
require(main)
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
