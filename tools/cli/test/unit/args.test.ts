import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommand, REPO_ROOT, UsageError } from '../../src/args';
import { resolveTargets, SERVICE_PORTS } from '../../src/status/targets';

describe('command line', () => {
  it('reads keys create, with scopes deduplicated', () => {
    const command = parseCommand(
      [
        'keys',
        'create',
        '--tenant',
        'acme',
        '--scopes',
        'events:read, events:write,events:read',
        '--rate-limit',
        '50',
      ],
      { API_KEYS_FILE: '/etc/keys.json' },
    );
    expect(command).toEqual({
      kind: 'keys-create',
      file: '/etc/keys.json',
      tenant: 'acme',
      scopes: ['events:read', 'events:write'],
      id: undefined,
      rateLimit: 50,
      json: false,
    });
  });

  it('takes the key file from --file, then API_KEYS_FILE, then SPLITSTREAM_LOCAL, then .local', () => {
    const fileOf = (argv: string[], env: NodeJS.ProcessEnv) =>
      (parseCommand(argv, env) as { file: string }).file;
    expect(fileOf(['keys', 'list', '--file', '/a.json'], { API_KEYS_FILE: '/b.json' })).toBe('/a.json');
    expect(fileOf(['keys', 'list'], { API_KEYS_FILE: '/b.json', SPLITSTREAM_LOCAL: '/l' })).toBe('/b.json');
    expect(fileOf(['keys', 'list'], { SPLITSTREAM_LOCAL: '/l' })).toBe('/l/dev-api-keys.json');
    expect(fileOf(['keys', 'list'], {})).toBe(join(REPO_ROOT, '.local', 'dev-api-keys.json'));
    expect(parseCommand(['keys', 'revoke', 'acme-1', '--file', '/a.json'], {})).toEqual({
      kind: 'keys-revoke',
      file: '/a.json',
      id: 'acme-1',
    });
  });

  it.each([
    [['keys', 'create', '--scopes', 'events:read'], /--tenant is required/],
    [['keys', 'create', '--tenant', 'acme'], /--scopes is required/],
    [
      ['keys', 'create', '--tenant', 'acme', '--scopes', 'events:everything'],
      /unknown scope events:everything/,
    ],
    [
      ['keys', 'create', '--tenant', 'acme', '--scopes', 'events:read', '--rate-limit', '0'],
      /positive integer/,
    ],
    [['keys', 'create', '--tenant', 'acme', '--scopes', 'events:read', '--tennant', 'x'], /--tennant/],
    [['keys', 'revoke'], /one key id/],
    [['keys', 'revoke', 'a', 'b'], /one key id/],
    [['keys', 'rotate'], /unknown keys command "rotate"/],
    [['keys'], /create, list or revoke/],
    [['stauts'], /unknown command "stauts"/],
    [['status', '--writer', 'eighty'], /--writer: "eighty" is neither a port nor an http\(s\) URL/],
    [['status', '--timeout', '1s'], /--timeout must be a positive integer/],
    [['status', '--gateway'], /--gateway/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommand(argv, {})).toThrow(UsageError);
    expect(() => parseCommand(argv, {})).toThrow(message);
  });

  it('answers help for no command, help, or --help anywhere', () => {
    for (const argv of [[], ['help'], ['--help'], ['keys', 'create', '-h']])
      expect(parseCommand(argv, {})).toEqual({ kind: 'help' });
  });
});

describe('where status looks', () => {
  it('defaults to the ports npm start gives the services (infra/scripts/start.sh)', () => {
    const startSh = readFileSync(join(REPO_ROOT, 'infra', 'scripts', 'start.sh'), 'utf8');
    for (const [name, { env, port }] of Object.entries(SERVICE_PORTS)) {
      expect(startSh).toContain(`start_service ${name} "\${${env}:-${port}}"`);
    }
    expect(resolveTargets({}, {})).toEqual({
      services: [
        { name: 'gateway', url: 'http://127.0.0.1:8080' },
        { name: 'ingest', url: 'http://127.0.0.1:8081' },
        { name: 'query', url: 'http://127.0.0.1:8082' },
        { name: 'writer', url: 'http://127.0.0.1:8083' },
      ],
      kafka: ['127.0.0.1:9092'],
      storeWrite: 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false',
      storeRead: 'mongodb://127.0.0.1:27018/?directConnection=true&retryWrites=false',
    });
  });

  it('takes flags (a port or a URL) over the environment', () => {
    const targets = resolveTargets(
      { host: '10.0.0.5', gateway: '9000', query: 'https://query.internal:8443/', kafka: 'k1:9092,k2:9092' },
      { GATEWAY_PORT: '7000', WRITER_PORT: '7003', KAFKA_PORT: '9999', STORE_READ_PORT: '1234' },
    );
    expect(targets.services.map((s) => s.url)).toEqual([
      'http://10.0.0.5:9000',
      'http://10.0.0.5:8081',
      'https://query.internal:8443',
      'http://10.0.0.5:7003',
    ]);
    expect(targets.kafka).toEqual(['k1:9092', 'k2:9092']);
    expect(targets.storeRead).toBe('mongodb://127.0.0.1:1234/?directConnection=true&retryWrites=false');
    expect(resolveTargets({}, { KAFKA_BROKERS: 'b:1', MONGO_WRITE_URI: 'mongodb://w:1/' }).storeWrite).toBe(
      'mongodb://w:1/',
    );
  });
});
