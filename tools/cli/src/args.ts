import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SCOPES, type Scope, splitList, TOPICS } from '@splitstream/shared';
import { REASONS, type ReplayCommand } from './replay';
import { resolveTargets, serviceUrl, type Targets } from './status/targets';
import type { TailCommand } from './tail';
import { UsageError } from './usage-error';

export { UsageError };

/** Repository root, from tools/cli/dist. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

export const DEFAULT_TIMEOUT_MS = 3_000;

export type Command =
  | { kind: 'help' }
  | { kind: 'status'; targets: Targets; timeoutMs: number; json: boolean }
  | {
      kind: 'keys-create';
      file: string;
      tenant: string;
      scopes: Scope[];
      id: string | undefined;
      rateLimit: number | undefined;
      json: boolean;
    }
  | { kind: 'keys-list'; file: string; json: boolean }
  | { kind: 'keys-revoke'; file: string; id: string }
  | ({ kind: 'replay'; json: boolean; timeoutMs: number } & ReplayCommand)
  | ({ kind: 'tail' } & TailCommand);

export const USAGE = `Usage: splitstream <command> [options]

Commands:
  status                     every part of the system: health, readiness, consumer lag, replica staleness
      --host HOST            where the services listen (127.0.0.1)
      --gateway|--ingest|--query|--writer PORT|URL
                             a service's port or base URL (env GATEWAY_PORT, INGEST_PORT, QUERY_PORT,
                             WRITER_PORT; defaults 8080, 8081, 8082, 8083, as npm start uses)
      --kafka HOST:PORT[,…]  brokers (env KAFKA_BROKERS, or 127.0.0.1:KAFKA_PORT, default 9092)
      --store-write URI      store write endpoint (env MONGO_WRITE_URI, or port STORE_WRITE_PORT, 27017)
      --store-read URI       store read endpoint (env MONGO_READ_URI, or port STORE_READ_PORT, 27018)
      --timeout MS           per check (${DEFAULT_TIMEOUT_MS})
      --json                 one JSON document instead of the table
    Exit code 0 when every part is up and ready, 1 otherwise (the problems are listed on stderr).

  keys create --tenant T --scopes events:read,events:write[,events:admin] [--id ID] [--rate-limit N]
                             prints the new key once (stdout); the file keeps only its hash
  keys list                  id, tenant, scopes, key prefix, created (never a key)
  keys revoke ID             removes the key; the gateway refuses it within a second
      --file PATH            the gateway's key file (env API_KEYS_FILE; default .local/dev-api-keys.json)
      --json                 JSON output (create, list)

  replay --key ADMIN_KEY [--reason R] [--type T] [--source S] [--id ID]… [--since T] [--until T]
         [--limit N] [--cursor C] [--dry-run] [--include-replayed] [--json]
                             replays the tenant's dead letters through the gateway
                             (POST /v1/deadletters/replay; the key needs events:admin)
      --key KEY              env SPLITSTREAM_API_KEY
      --gateway PORT|URL     env GATEWAY_PORT, default 8080; --host HOST (127.0.0.1)
      --reason               one of ${REASONS.join(', ')}

  tail [--tenant T] [--type T] [--from-beginning] [--max N] [--json]
                             follows the events topic as the writer reads it (all tenants unless
                             --tenant), one line per event; until Ctrl-C or N events
      --kafka HOST:PORT[,…]  as for status; --topic NAME (events)
`;

const SCOPE_VALUES: readonly string[] = Object.values(SCOPES);

function keyFile(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  if (flag) return flag;
  if (env.API_KEYS_FILE) return env.API_KEYS_FILE;
  return join(env.SPLITSTREAM_LOCAL || join(REPO_ROOT, '.local'), 'dev-api-keys.json');
}

function positiveInteger(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(value))
    throw new UsageError(`${what} must be a positive integer, not "${value}"`);
  return Number(value);
}

function parseScopes(value: string | undefined): Scope[] {
  if (!value) throw new UsageError(`--scopes is required (among ${SCOPE_VALUES.join(', ')})`);
  const scopes = [...new Set(splitList(value))];
  const unknown = scopes.filter((s) => !SCOPE_VALUES.includes(s));
  if (unknown.length > 0)
    throw new UsageError(`unknown scope ${unknown.join(', ')} (known: ${SCOPE_VALUES.join(', ')})`);
  if (scopes.length === 0) throw new UsageError('--scopes names no scope');
  return scopes as Scope[];
}

/** util.parseArgs, with its errors (unknown option, missing value) as usage errors. */
function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(
  args: string[],
  options: T,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** String options of these names. */
const strings = <const N extends string>(...names: N[]) =>
  Object.fromEntries(names.map((name) => [name, { type: 'string' }])) as { [K in N]: { type: 'string' } };
const FILE = strings('file');
const JSON_FLAG = { json: { type: 'boolean', default: false } } as const;

/** The command a command line asks for; throws UsageError when it is not one. */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h')
    return { kind: 'help' };
  if (rest.includes('--help') || rest.includes('-h')) return { kind: 'help' };
  if (command === 'status') {
    const { values } = parse(rest, {
      ...strings(
        'host',
        'gateway',
        'ingest',
        'query',
        'writer',
        'kafka',
        'store-write',
        'store-read',
        'timeout',
      ),
      ...JSON_FLAG,
    });
    return {
      kind: 'status',
      targets: resolveTargets(
        {
          host: values.host,
          gateway: values.gateway,
          ingest: values.ingest,
          query: values.query,
          writer: values.writer,
          kafka: values.kafka,
          storeWrite: values['store-write'],
          storeRead: values['store-read'],
        },
        env,
      ),
      timeoutMs: positiveInteger(values.timeout, '--timeout') ?? DEFAULT_TIMEOUT_MS,
      json: values.json,
    };
  }
  if (command === 'keys') {
    const [sub, ...args] = rest;
    if (sub === 'create') {
      const { values } = parse(args, {
        ...strings('tenant', 'scopes', 'id', 'rate-limit'),
        ...FILE,
        ...JSON_FLAG,
      });
      if (!values.tenant) throw new UsageError('--tenant is required');
      return {
        kind: 'keys-create',
        file: keyFile(values.file, env),
        tenant: values.tenant,
        scopes: parseScopes(values.scopes),
        id: values.id,
        rateLimit: positiveInteger(values['rate-limit'], '--rate-limit'),
        json: values.json,
      };
    }
    if (sub === 'list') {
      const { values } = parse(args, { ...FILE, ...JSON_FLAG });
      return { kind: 'keys-list', file: keyFile(values.file, env), json: values.json };
    }
    if (sub === 'revoke') {
      const { values, positionals } = parse(args, { ...FILE }, true);
      if (positionals.length !== 1) throw new UsageError('keys revoke takes one key id');
      return { kind: 'keys-revoke', file: keyFile(values.file, env), id: positionals[0] as string };
    }
    throw new UsageError(
      sub ? `unknown keys command "${sub}" (create, list, revoke)` : 'keys: create, list or revoke?',
    );
  }
  if (command === 'tail') {
    const { values } = parse(rest, {
      ...strings('kafka', 'topic', 'tenant', 'type'),
      'from-beginning': { type: 'boolean', default: false },
      ...strings('max'),
      ...JSON_FLAG,
    });
    return {
      kind: 'tail',
      brokers: resolveTargets({ kafka: values.kafka }, env).kafka,
      topic: values.topic ?? TOPICS.events.name,
      tenant: values.tenant,
      type: values.type,
      fromBeginning: values['from-beginning'],
      max: positiveInteger(values.max, '--max'),
      json: values.json,
    };
  }
  if (command === 'replay') {
    const { values } = parse(rest, {
      ...strings('key', 'gateway', 'host', 'reason', 'type', 'source'),
      id: { type: 'string', multiple: true },
      ...strings('since', 'until', 'limit', 'cursor'),
      'dry-run': { type: 'boolean', default: false },
      'include-replayed': { type: 'boolean', default: false },
      ...strings('timeout'),
      ...JSON_FLAG,
    });
    const key = values.key ?? env.SPLITSTREAM_API_KEY;
    if (!key)
      throw new UsageError('replay needs an API key with events:admin (--key or SPLITSTREAM_API_KEY)');
    if (values.reason !== undefined && !REASONS.includes(values.reason))
      throw new UsageError(`unknown reason "${values.reason}" (known: ${REASONS.join(', ')})`);
    return {
      kind: 'replay',
      gateway: serviceUrl('gateway', values.gateway, values.host ?? '127.0.0.1', env),
      key,
      filter: {
        ids: values.id,
        source: values.source,
        type: values.type,
        reason: values.reason,
        since: values.since,
        until: values.until,
      },
      limit: positiveInteger(values.limit, '--limit'),
      cursor: values.cursor,
      dryRun: values['dry-run'],
      includeReplayed: values['include-replayed'],
      timeoutMs: positiveInteger(values.timeout, '--timeout') ?? DEFAULT_TIMEOUT_MS * 10,
      json: values.json,
    };
  }
  throw new UsageError(`unknown command "${command}"`);
}
