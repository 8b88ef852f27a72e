#!/usr/bin/env node
// Dev API keys for `npm start`: generated once, kept in .local (stable across restarts).
// Writes <local>/dev-api-keys.json (what the gateway loads: ids, sha256 hashes, tenants, scopes)
// and <local>/dev-api-keys.secret.json (the plaintext keys, mode 600, for printing only), then
// prints the keys. Usage: node infra/scripts/dev-keys.js [--quiet]
const { createHash, randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..', '..');
const LOCAL = process.env.SPLITSTREAM_LOCAL || join(ROOT, '.local');
const HASHED = join(LOCAL, 'dev-api-keys.json');
const PLAIN = join(LOCAL, 'dev-api-keys.secret.json');

const DEV_KEYS = [
  { id: 'acme-rw', tenant: 'acme', scopes: ['events:read', 'events:write'] },
  { id: 'globex-rw', tenant: 'globex', scopes: ['events:read', 'events:write'] },
  { id: 'acme-ro', tenant: 'acme', scopes: ['events:read'] },
];

const sha256 = (key) => createHash('sha256').update(key, 'utf8').digest('hex');

function load() {
  if (!existsSync(PLAIN)) return undefined;
  const keys = JSON.parse(readFileSync(PLAIN, 'utf8'));
  const complete = DEV_KEYS.every((d) => keys.some((k) => k.id === d.id));
  return complete ? keys : undefined;
}

let keys = load();
if (!keys) {
  keys = DEV_KEYS.map((d) => ({
    ...d,
    key: `sk_dev_${d.id.replace('-', '_')}_${randomBytes(16).toString('hex')}`,
  }));
  mkdirSync(LOCAL, { recursive: true });
  writeFileSync(PLAIN, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
}
// The hashed file is rewritten every time from the plaintext one, so the two always agree.
const records = keys.map(({ id, tenant, scopes, key }) => ({ id, hash: sha256(key), tenant, scopes }));
writeFileSync(HASHED, `${JSON.stringify(records, null, 2)}\n`);

if (!process.argv.includes('--quiet')) {
  for (const k of keys) {
    process.stdout.write(
      `  ${k.id.padEnd(10)} tenant ${k.tenant.padEnd(7)} ${k.scopes.join(',').padEnd(25)} ${k.key}\n`,
    );
  }
}
