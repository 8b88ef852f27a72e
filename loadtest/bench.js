// The benchmark: runs every scenario in its own process, one after another (never two loads at
// once on a 2-core machine), then writes REPORT.md from their results. Each scenario measures its
// baseline (the ceiling or the direct path) in the same run, so the report speaks in ratios.
//
//   npm run bench                      (from the repository root; builds, infrastructure up)
//   BENCH_SCENARIOS=ingest,query npm run bench
//   node loadtest/bench.js --report-only
//   npm run bench -- --quick           (every scenario shortened: a few minutes in all)
//   node loadtest/bench.js --compare old.json new.json   (two results of one scenario, side by side)
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { lineChart } = require('./chart');
const { ROOT } = require('./lib');

const SCENARIOS = ['ingest', 'writer', 'query', 'stats', 'gateway', 'split'];
const selected = (process.env.BENCH_SCENARIOS ?? SCENARIOS.join(',')).split(',');

// Short measurements: figures for a quick look, noisier than a full run.
const QUICK_ENV = {
  INGEST_BENCH_SECONDS: '3',
  INGEST_BENCH_WARMUP_SECONDS: '1',
  WRITER_BENCH_EVENTS: '10000',
  QUERY_BENCH_SECONDS: '3',
  QUERY_BENCH_WARMUP_SECONDS: '1',
  STATS_BENCH_EVENTS: '2000,20000',
  STATS_BENCH_SECONDS: '3',
  GATEWAY_BENCH_SECONDS: '3',
  GATEWAY_BENCH_WARMUP_SECONDS: '1',
  SPLIT_BENCH_SECONDS: '4',
};
const quick = process.argv.includes('--quick');

const compareAt = process.argv.indexOf('--compare');
if (compareAt >= 0) {
  compare(process.argv[compareAt + 1], process.argv[compareAt + 2]);
} else {
  // `--report-only` rewrites REPORT.md from the saved results without measuring again.
  if (!process.argv.includes('--report-only')) runScenarios();
  writeReport();
}

/** Every figure two result files share (throughput, latency, ratios), old → new and new / old. */
function compare(oldFile, newFile) {
  if (!oldFile || !newFile) throw new Error('--compare needs two result files');
  const [before, after] = [oldFile, newFile].map((f) => JSON.parse(readFileSync(f, 'utf8')));
  const FIGURE =
    /(PerSecond|Ms|Ratio|p50|p95|p99|max|cpuCores|RssMb|singleVs|batchVs|sequential|concurrent)$/;
  const rows = [];
  const walk = (a, b, path) => {
    if (typeof a === 'number' && typeof b === 'number') {
      if (FIGURE.test(path.at(-1) ?? '')) rows.push([path.join('.'), a, b]);
      return;
    }
    if (a && b && typeof a === 'object' && typeof b === 'object') {
      for (const key of Object.keys(a)) if (key in b) walk(a[key], b[key], [...path, key]);
    }
  };
  walk(before, after, []);
  const fmt = (v) => (Math.abs(v) >= 100 ? Math.round(v) : Number(v.toFixed(2)));
  process.stdout.write(`${before.scenario ?? ''} ${before.date ?? oldFile} → ${after.date ?? newFile}\n`);
  for (const [name, a, b] of rows) {
    process.stdout.write(
      `${name.padEnd(60)} ${String(fmt(a)).padStart(10)} → ${String(fmt(b)).padStart(10)}  ${a ? `${(b / a).toFixed(2)}×` : ''}\n`,
    );
  }
}

function runScenarios() {
  const infra = spawnSync('bash', [join(ROOT, 'infra/scripts/infra.sh'), 'up'], { stdio: 'inherit' });
  if (infra.status !== 0) process.exit(infra.status ?? 1);
  for (const scenario of selected) {
    if (!SCENARIOS.includes(scenario))
      throw new Error(`unknown scenario ${scenario}: ${SCENARIOS.join(', ')}`);
    process.stdout.write(`\n=== ${scenario}\n`);
    const run = spawnSync(process.execPath, [join(__dirname, 'scenarios', `${scenario}.js`)], {
      stdio: 'inherit',
      env: { ...(quick ? QUICK_ENV : {}), ...process.env },
    });
    if (run.status !== 0) process.exit(run.status ?? 1);
  }
}

function writeReport() {
  const results = Object.fromEntries(
    SCENARIOS.map((s) => [s, join(__dirname, 'results', `${s}.json`)])
      .filter(([, file]) => existsSync(file))
      .map(([s, file]) => [s, JSON.parse(readFileSync(file, 'utf8'))]),
  );
  writeFileSync(join(__dirname, 'REPORT.md'), report(results));
  if (results.split?.sweep) {
    const points = (pick) => results.split.sweep.map((step) => [step.offeredWritesPerSecond, pick(step)]);
    const svg = lineChart({
      title: 'p99 latency against offered write load (single-event POSTs straight to ingest)',
      xLabel: 'offered writes per second',
      yLabel: 'p99 (ms)',
      series: [
        { name: 'write p99', points: points((s) => s.writes.latencyMs.p99) },
        { name: `read p99 (${results.split.readRate}/s)`, points: points((s) => s.reads.latencyMs.p99) },
      ],
    });
    writeFileSync(join(__dirname, 'latency-vs-load.svg'), svg);
  }
  process.stdout.write(`\nreport: loadtest/REPORT.md\n`);
}

function report({ ingest, writer, query, stats, gateway, split }) {
  const rps = (r) => `${Math.round(r.requestsPerSecond ?? r.eventsPerSecond)}`;
  const p99 = (r) => (r.latencyMs ? `${Math.round(r.latencyMs.p99)} ms` : '–');
  const ratio = (a, b) => (b ? `${(a / b).toFixed(2)}×` : '–');
  const lines = [
    '# Benchmark report',
    '',
    'Produced by `npm run bench` (loadtest/bench.js): each scenario runs alone, servers in their own',
    'processes, a warm-up run then the measured run, on this machine (2 cores, shared by the load',
    'generator, the services, Kafka, PostgreSQL and FerretDB). Baselines are measured in the same run;',
    'compare ratios, not absolute numbers, across machines. Raw results: `loadtest/results/*.json`.',
    '',
  ];
  if (ingest) {
    const [batched, unbatched] = ['microbatch', 'unbatched'].map((m) =>
      ingest.runs.find((r) => r.mode === m),
    );
    lines.push(
      `## Ingest: single-event POST /v1/events, ${ingest.connections} connections (${ingest.date})`,
      '',
      '| mode | events/s | p50 | p99 | non-2xx | 202s in topic |',
      '|---|---|---|---|---|---|',
      ...[batched, unbatched]
        .filter(Boolean)
        .map(
          (r) =>
            `| ${r.mode} (${r.meanMessagesPerSend.toFixed(1)} msgs/send) | ${rps(r)} | ${r.latencyMs.p50} ms | ${p99(r)} | ${r.non2xx} | ${r.inTopic} ≥ ${r.accepted} |`,
        ),
      '',
      batched && unbatched
        ? `Micro-batcher speed-up: **${ratio(batched.eventsPerSecond, unbatched.eventsPerSecond)}**.`
        : '',
      '',
    );
    if (ingest.ceilings && batched?.batch) {
      const { bareFastify, rawProducer } = ingest.ceilings;
      lines.push(
        'Against the ceilings measured in the same run:',
        '',
        '| path | events/s | p99 | ingest / ceiling |',
        '|---|---|---|---|',
        `| ingest, single events | ${rps(batched)} | ${p99(batched)} | |`,
        `| bare Fastify validating the same body (HTTP ceiling) | ${rps(bareFastify.single)} | ${p99(bareFastify.single)} | **${ratio(batched.requestsPerSecond, bareFastify.single.requestsPerSecond)}** |`,
        `| raw kafkajs producer loop, one event per send | ${rps(rawProducer)} | ${p99(rawProducer)} | ${ratio(batched.eventsPerSecond, rawProducer.eventsPerSecond)} |`,
        `| ingest, batches of ${ingest.batchSize} | ${Math.round(batched.batch.eventsPerSecond)} | ${p99(batched.batch)} | |`,
        `| bare Fastify, batches of ${ingest.batchSize} | ${Math.round(bareFastify.batch.eventsPerSecond)} | ${p99(bareFastify.batch)} | **${ratio(batched.batch.eventsPerSecond, bareFastify.batch.eventsPerSecond)}** |`,
        '',
      );
    }
  }
  if (writer) {
    lines.push(
      `## Writer: Kafka → store, ${writer.events} events, batches of ${writer.batchSize} (${writer.date})`,
      '',
      '| path | events/s |',
      '|---|---|',
      `| writer (consumer group, ${writer.partitions} partitions) | ${rps(writer.writer)} |`,
      `| raw insertMany loop, sequential (ceiling) | ${rps(writer.rawInsertMany.sequential)} |`,
      `| raw insertMany loop, concurrent | ${rps(writer.rawInsertMany.concurrent)} |`,
      '',
      `Writer vs the raw loop: **${ratio(writer.writer.eventsPerSecond, writer.rawInsertMany.sequential.eventsPerSecond)}** (sequential), ` +
        `${ratio(writer.writer.eventsPerSecond, writer.rawInsertMany.concurrent.eventsPerSecond)} (concurrent).`,
      '',
    );
  }
  if (query) {
    lines.push(
      `## Query: ${query.connections} connections, tenant of ${query.tenantEvents} events (${query.date})`,
      '',
      '| read | service req/s | service p99 | service timeouts (10 s) | raw driver req/s (ceiling) | raw p99 | service / ceiling |',
      '|---|---|---|---|---|---|---|',
      ...[
        ['get by id', query.getById],
        ['page of 100', query.page100],
      ].map(
        ([name, r]) =>
          `| ${name} | ${rps(r.service)} | ${p99(r.service)} | ${r.service.timeouts} | ${rps(r.rawDriver)} | ${p99(r.rawDriver)} | ${ratio(r.service.requestsPerSecond, r.rawDriver.requestsPerSecond)} |`,
      ),
      '',
      'The local store is FerretDB v1: it pushes only equality filters down to PostgreSQL (served by the',
      'GIN lookup indexes infra.sh adds), then sorts and limits in its own memory, so a page costs a read',
      "of the tenant's whole matching set; get-by-id is an index lookup. A real MongoDB serves both from",
      'the compound indexes in shared/src/store.ts.',
      '',
    );
  }
  if (stats) {
    lines.push(
      `## Stats: one day by type per hour, from rollups vs the raw aggregation (${stats.date})`,
      '',
      `GET /v1/stats at ${stats.connections} connections; the raw aggregation (what stats ran before the rollups) one at a time on the same replica.`,
      '',
      '| events in the day | rollups req/s | rollups p50 | rollups p99 | raw aggregation p50 | raw p99 | raw p99 / rollups p99 | backfill |',
      '|---|---|---|---|---|---|---|---|',
      ...stats.days.map(
        (d) =>
          `| ${d.events} | ${rps(d.rollups)} | ${d.rollups.latencyMs.p50} ms | **${p99(d.rollups)}** | ${Math.round(d.rawAggregation.latencyMs.p50)} ms | ${p99(d.rawAggregation)} | ${d.p99Ratio.toFixed(0)}× | ${d.backfillSeconds.toFixed(1)} s |`,
      ),
      '',
    );
  }
  if (gateway) {
    lines.push(
      `## Gateway overhead: ${gateway.connections} connections (${gateway.date})`,
      '',
      '| request | direct req/s | direct p99 | via gateway req/s | via gateway p99 | throughput kept | p99 added |',
      '|---|---|---|---|---|---|---|',
      ...Object.entries(gateway)
        .filter(([, v]) => v && typeof v === 'object' && v.direct)
        .map(
          ([name, r]) =>
            `| ${r.direct.title.replace(/ straight to .*/, '') || name} | ${rps(r.direct)} | ${p99(r.direct)} | ${rps(r.throughGateway)} | ${p99(r.throughGateway)} | ${ratio(r.throughGateway.requestsPerSecond, r.direct.requestsPerSecond)} | ${Math.round(r.throughGateway.latencyMs.p99 - r.direct.latencyMs.p99)} ms |`,
        ),
      '',
    );
    const ceiling = ingest?.ceilings?.bareFastify?.single;
    if (ceiling && gateway.postEvent) {
      const via = gateway.postEvent.throughGateway;
      lines.push(
        `Single events through the gateway against the bare Fastify ceiling of the ingest section: ${rps(via)} / ${rps(ceiling)} req/s = **${ratio(via.requestsPerSecond, ceiling.requestsPerSecond)}** (target ≥ 0.5×; ${gateway.connections} connections here, ${ceiling.connections} there).`,
        '',
      );
    }
  }
  if (split) {
    const ms = (v) => `${Math.round(v)} ms`;
    const { surge, arrivalToReadable: arrival } = split;
    lines.push(
      `## The split: reads during a write surge, arrival → readable (${split.date})`,
      '',
      `Ingest capacity in this run: ${rps(split.ingestCapacity)} single-event POSTs/s (${split.ingestCapacity.connections} connections).`,
      `Reads: get-by-id on the replica at a fixed ${split.readRate}/s.`,
      '',
      '| reads | req/s | p50 | p99 | max | non-2xx |',
      '|---|---|---|---|---|---|',
      ...[
        ['alone', split.readsAlone],
        [`during ${surge.offeredWritesPerSecond} POSTs/s (80%)`, surge.reads],
      ].map(
        ([name, r]) =>
          `| ${name} | ${rps(r)} | ${ms(r.latencyMs.p50)} | ${ms(r.latencyMs.p99)} | ${ms(r.latencyMs.max)} | ${r.non2xx} |`,
      ),
      '',
      `Read p99 during the surge / alone: **${surge.readP99Ratio.toFixed(2)}×** (target ≤ 1.2×). ` +
        `Writes answered during the surge: ${rps(surge.writes)}/s, p99 ${ms(surge.writes.latencyMs.p99)}, non-2xx ${surge.writes.non2xx}.`,
      '',
      '| process during the surge | CPU (cores) | peak RSS |',
      '|---|---|---|',
      ...Object.entries(surge.usage).map(
        ([name, u]) => `| ${name} | ${u.cpuCores.toFixed(2)} | ${u.peakRssMb} MB |`,
      ),
      '',
      ...(split.sweep
        ? [
            '| offered writes/s | writes answered/s | write p99 | read p99 |',
            '|---|---|---|---|',
            ...split.sweep.map(
              (step) =>
                `| ${step.offeredWritesPerSecond} | ${rps(step.writes)} | ${ms(step.writes.latencyMs.p99)} | ${ms(step.reads.latencyMs.p99)} |`,
            ),
            '',
            '![p99 latency against offered load](latency-vs-load.svg)',
            '',
          ]
        : []),
      `Arrival → readable on the replica at ${arrival.offeredWritesPerSecond} POSTs/s (half the capacity), ` +
        `${arrival.latencyMs.count} probes: p50 ${ms(arrival.latencyMs.p50)}, p95 ${ms(arrival.latencyMs.p95)}, ` +
        `**p99 ${ms(arrival.latencyMs.p99)}** (target ≤ 1 s), max ${ms(arrival.latencyMs.max)}` +
        `${arrival.pollMs ? ` (each probe looks on the replica every ${arrival.pollMs} ms)` : ''}.`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}
