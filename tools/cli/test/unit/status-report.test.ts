import type { PartReport, ServiceReport } from '../../src/status/probe';
import { sampleValues } from '../../src/status/prometheus';
import { formatStatus, problemsOf, summaryOf } from '../../src/status/report';
import { uriEndpoint } from '../../src/status/targets';

const service = (name: ServiceReport['name'], extra: Partial<ServiceReport> = {}): ServiceReport => ({
  kind: 'service',
  name,
  endpoint: `http://127.0.0.1:${{ gateway: 8080, ingest: 8081, query: 8082, writer: 8083 }[name]}`,
  health: 'ok',
  ready: true,
  checks: { kafka: 'ok' },
  ...extra,
});

const infra = (name: 'kafka' | 'store-write' | 'store-read', up = true, detail = 'ok'): PartReport => ({
  kind: 'infra',
  name,
  endpoint: { kafka: '127.0.0.1:9092', 'store-write': '127.0.0.1:27017', 'store-read': '127.0.0.1:27018' }[
    name
  ],
  up,
  detail,
});

const allUp = (): PartReport[] => [
  service('gateway', { checks: { ingest: 'ok', query: 'ok' } }),
  service('ingest'),
  service('query', { checks: { replica: 'ok', primary: 'ok' }, staleness: null }),
  service('writer', { checks: { store: 'ok' }, lag: 12 }),
  infra('kafka', true, '1 broker(s), controller 1'),
  infra('store-write'),
  infra('store-read'),
];

describe('status output', () => {
  it('is a table with every part, lag and staleness where they apply ("n/a" when not reported)', () => {
    expect(formatStatus(allUp())).toBe(
      [
        'PART         ENDPOINT               HEALTHZ  READYZ  LAG  STALENESS  DETAILS',
        'gateway      http://127.0.0.1:8080  ok       ready   -    -          ingest: ok; query: ok',
        'ingest       http://127.0.0.1:8081  ok       ready   -    -          kafka: ok',
        'query        http://127.0.0.1:8082  ok       ready   -    n/a        replica: ok; primary: ok',
        'writer       http://127.0.0.1:8083  ok       ready   12   -          store: ok',
        'kafka        127.0.0.1:9092         up       -       -    -          1 broker(s), controller 1',
        'store-write  127.0.0.1:27017        up       -       -    -          ok',
        'store-read   127.0.0.1:27018        up       -       -    -          ok',
      ].join('\n'),
    );
    expect(problemsOf(allUp())).toEqual([]);
    expect(summaryOf(allUp())).toBe('all 7 parts up and ready');
  });

  it('shows a staleness the query reports, in seconds', () => {
    const reports = allUp();
    reports[2] = service('query', { staleness: 0.4567 });
    expect(formatStatus(reports).split('\n')[3]).toMatch(/ready {3}- {4}0\.457 s/);
  });

  it('names each part that is down or not ready, with why', () => {
    const reports = allUp();
    reports[2] = service('query', {
      ready: false,
      checks: { replica: 'no answer within 1000 ms', primary: 'ok' },
    });
    reports[3] = service('writer', {
      health: 'down (connection refused)',
      ready: false,
      checks: {},
      error: 'x',
    });
    reports[6] = infra('store-read', false, 'connect ECONNREFUSED 127.0.0.1:27018');
    expect(problemsOf(reports)).toEqual([
      'query not ready (replica: no answer within 1000 ms; primary: ok)',
      'writer down (connection refused) at http://127.0.0.1:8083',
      'store-read down (connect ECONNREFUSED 127.0.0.1:27018)',
    ]);
    const lines = formatStatus(reports).split('\n');
    expect(lines[3]).toMatch(/^query .* NOT READY /);
    expect(lines[4]).toMatch(/^writer .* down +- +n\/a +- +connection refused$/);
    expect(summaryOf(reports)).toBe('3 of 7 parts have a problem');
  });

  it('treats a readiness answer that is not one as a problem', () => {
    const reports = [
      service('ingest', { ready: false, checks: {}, error: 'HTTP 404, not a readiness answer' }),
    ];
    expect(problemsOf(reports)).toEqual(['ingest not ready (HTTP 404, not a readiness answer)']);
  });
});

describe('Prometheus text', () => {
  const text = [
    '# HELP writer_consumer_lag_messages Messages not stored yet, per owned partition',
    '# TYPE writer_consumer_lag_messages gauge',
    'writer_consumer_lag_messages{topic="events",partition="0",service="writer"} 3',
    'writer_consumer_lag_messages{topic="events",partition="1",service="writer"} 4',
    'writer_consumer_lag_messages_other 100',
    'query_replica_staleness_seconds 0.25',
  ].join('\n');

  it('gives every series of a metric, and nothing of a metric whose name it only starts', () => {
    expect(sampleValues(text, 'writer_consumer_lag_messages')).toEqual([3, 4]);
    expect(sampleValues(text, 'query_replica_staleness_seconds')).toEqual([0.25]);
    expect(sampleValues(text, 'writer_consumer_lag')).toEqual([]);
  });
});

describe('store endpoints', () => {
  it('are shown as host:port, never with credentials', () => {
    expect(uriEndpoint('mongodb://127.0.0.1:27017/?directConnection=true')).toBe('127.0.0.1:27017');
    expect(uriEndpoint('mongodb://user:secret@db1:27017,db2:27017/splitstream?replicaSet=rs0')).toBe(
      'db1:27017,db2:27017',
    );
  });
});
