import { parseCommand, UsageError } from '../../src/args';
import { formatReplay, type ReplayCommand, replayBody } from '../../src/replay';

describe('replay command line', () => {
  it('reads the filter, the key (flag or SPLITSTREAM_API_KEY) and the gateway', () => {
    const command = parseCommand(
      [
        'replay',
        '--reason',
        'rejected-by-store',
        '--id',
        'a',
        '--id',
        'b',
        '--limit',
        '10',
        '--dry-run',
        '--gateway',
        '9000',
      ],
      { SPLITSTREAM_API_KEY: 'sk_admin' },
    ) as ReplayCommand & { kind: string };
    expect(command).toMatchObject({
      kind: 'replay',
      gateway: 'http://127.0.0.1:9000',
      key: 'sk_admin',
      filter: { ids: ['a', 'b'], reason: 'rejected-by-store' },
      limit: 10,
      dryRun: true,
      includeReplayed: false,
    });
    expect(replayBody(command)).toEqual({
      filter: { ids: ['a', 'b'], reason: 'rejected-by-store' },
      limit: 10,
      dryRun: true,
    });
    expect((parseCommand(['replay', '--key', 'k'], { GATEWAY_PORT: '7000' }) as ReplayCommand).gateway).toBe(
      'http://127.0.0.1:7000',
    );
    expect(replayBody(parseCommand(['replay', '--key', 'k'], {}) as ReplayCommand)).toEqual({
      dryRun: false,
    });
  });

  it.each([
    [['replay'], /needs an API key with events:admin/],
    [['replay', '--key', 'k', '--reason', 'bad-luck'], /unknown reason "bad-luck"/],
    [['replay', '--key', 'k', '--limit', 'all'], /--limit must be a positive integer/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseCommand(argv, {})).toThrow(UsageError);
    expect(() => parseCommand(argv, {})).toThrow(message);
  });
});

describe('replay output', () => {
  it('says what a dry run would do and what a replay did', () => {
    const answer = {
      dryRun: true,
      matched: 3,
      replayed: 2,
      ids: ['e1', 'e2'],
      skipped: [{ deadLetterId: 'events-dlq/0/7', reason: 'undecodable: not JSON' }],
      alreadyReplayed: 1,
      nextCursor: null,
    };
    expect(formatReplay(answer)).toBe(
      [
        'dry run: 3 matched, 2 would be replayed, 1 skipped, 1 left out as replayed before',
        '  events: e1, e2',
        '  skipped events-dlq/0/7: undecodable: not JSON',
      ].join('\n'),
    );
    expect(formatReplay({ ...answer, dryRun: false, skipped: [], token: 't0k', nextCursor: 'c1.x' })).toBe(
      [
        'replayed 2 of 3 matched, 0 skipped, 1 left out as replayed before',
        '  events: e1, e2',
        '  token: t0k (pass as after= to read the replayed events)',
        '  more: --cursor c1.x',
      ].join('\n'),
    );
  });
});
