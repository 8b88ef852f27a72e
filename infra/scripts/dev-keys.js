#!/usr/bin/env node
// Dev API keys for `npm start`: generated once, kept in .local (stable across restarts).
// Writes <local>/dev-api-keys.json (what the gateway loads: ids, sha256 hashes, tenants, scopes)
// and <local>/dev-api-keys.secret.json (the plaintext keys, mode 600, for printing only), then
// prints the keys. Keys in dev-api-keys.json that are not dev keys (`npx splitstream keys create`)
// are kept. Needs the build (start.sh builds first). Usage: node infra/scripts/dev-keys.js [--quiet]
const { randomBytes } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { formatApiKeys, hashApiKey, parseApiKeys } = require('@splitstream/shared');

const ROOT = join(__dirname, '..', '..');
const LOCAL = process.env.SPLITSTREAM_LOCAL || join(ROOT, '.local');
const HASHED = join(LOCAL, 'dev-api-keys.json');
const PLAIN = join(LOCAL, 'dev-api-keys.secret.json');

const DEV_KEYS = [
  { id: 'acme-rw', tenant: 'acme', scopes: ['events:read', 'events:write'] },
  { id: 'globex-rw', tenant: 'globex', scopes: ['events:read', 'events:write'] },
  { id: 'acme-ro', tenant: 'acme', scopes: ['events:read'] },
  // Dead-letter replay (POST /v1/deadletters/replay) needs events:admin; read to inspect them first.
  { id: 'acme-admin', tenant: 'acme', scopes: ['events:read', 'events:write', 'events:admin'] },
];

const generate = (d) => ({
  ...d,
  key: `sk_dev_${d.id.replace(/-/g, '_')}_${randomBytes(16).toString('hex')}`,
});

// Keys already issued are kept (a key added to DEV_KEYS later does not rotate the others).
function load() {
  if (!existsSync(PLAIN)) return { keys: DEV_KEYS.map(generate), changed: true };
  const saved = JSON.parse(readFileSync(PLAIN, 'utf8'));
  const keys = DEV_KEYS.map((d) => {
    const old = saved.find((k) => k.id === d.id);
    return old ? { ...d, key: old.key } : generate(d);
  });
  const same = (k, i) =>
    saved[i]?.id === k.id && saved[i]?.key === k.key && saved[i]?.scopes.join() === k.scopes.join();
  const changed = saved.length !== keys.length || !keys.every(same);
  return { keys, changed };
}

const { keys, changed } = load();
if (changed) {
  mkdirSync(LOCAL, { recursive: true });
  writeFileSync(PLAIN, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
}
// The dev records of the hashed file are rewritten every time from the plaintext one, so the two
// always agree; the other records (issued with the CLI) stay as they are. A file that is not a valid
// key list stops here rather than being overwritten (it may hold keys in use).
const devIds = new Set(DEV_KEYS.map((d) => d.id));
let issued = [];
try {
  if (existsSync(HASHED))
    issued = parseApiKeys(readFileSync(HASHED, 'utf8'), HASHED).filter((r) => !devIds.has(r.id));
} catch (error) {
  process.stderr.write(`dev-keys: ${error.message}; fix or remove it (left unchanged)\n`);
  process.exit(1);
}
const records = keys.map(({ id, tenant, scopes, key }) => ({ id, hash: hashApiKey(key), tenant, scopes }));
writeFileSync(HASHED, formatApiKeys([...records, ...issued]));

if (!process.argv.includes('--quiet')) {
  const width = Math.max(...keys.map((k) => k.scopes.join(',').length));
  for (const k of keys) {
    process.stdout.write(
      `  ${k.id.padEnd(11)} tenant ${k.tenant.padEnd(7)} ${k.scopes.join(',').padEnd(width)} ${k.key}\n`,
    );
  }
}
