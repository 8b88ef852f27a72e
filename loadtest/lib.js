// Shared benchmark plumbing (fastify/benchmarks style): every server runs in its own process,
// each measurement is a warm-up run then a measured run, results are plain JSON.
const { mkdirSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const autocannon = require('autocannon');
const { TOPICS, toStoredEvent } = require('@splitstream/shared');

/** Partitions of every bench topic: as the `events` topic. */
const BENCH_PARTITIONS = TOPICS.events.partitions;
const { REPO_ROOT: ROOT, SERVICE_SCRIPT, freePort, spawnService } = require('@splitstream/shared/testing');

/** Starts services/<name>/dist/server.js with `env` on a free port; resolves once /readyz answers 200. */
async function startService(name, env = {}) {
  const service = await spawnService(name, SERVICE_SCRIPT(name), env);
  // Benchmarks print the server's warnings as they come; tests keep them for failure messages.
  service.child.stderr.pipe(process.stderr);
  return {
    url: service.url,
    port: service.port,
    pid: service.child.pid,
    stop: () => service.kill('SIGTERM'),
  };
}

/** Runs autocannon twice (warm-up, then measured) and returns the measured summary. */
async function measure(options, { warmupSeconds = 2 } = {}) {
  await autocannon({ ...options, duration: warmupSeconds });
  const result = await autocannon(options);
  return {
    title: options.title,
    connections: options.connections,
    durationSeconds: options.duration,
    requestsPerSecond: result.requests.average,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
    },
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Per-second rate and latency percentiles of a closed loop of `concurrency` workers calling `fn` for `seconds`. */
async function measureLoop(title, fn, { concurrency = 100, seconds = 10 } = {}) {
  const latencies = [];
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const t0 = process.hrtime.bigint();
        await fn();
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    title,
    connections: concurrency,
    durationSeconds: (Date.now() - started) / 1000,
    requestsPerSecond: latencies.length / ((Date.now() - started) / 1000),
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies.at(-1) },
    requests: latencies.length,
  };
}

/**
 * Saves a scenario's results, after its name and when it ran, as loadtest/results/<scenario>.json
 * (bench.js reads them for the report) and prints them on stdout.
 */
function saveResult(scenario, fields) {
  const result = { scenario, date: new Date().toISOString(), ...fields };
  const dir = join(ROOT, 'loadtest', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${scenario}.json`), `${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

/** Runs a scenario's main; a failure is printed and exits 1. */
function runScenario(main) {
  main().catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exit(1);
  });
}

/**
 * Fixture event `i` of a read benchmark as the writer stores it: one second apart from 2026-01-01,
 * five types, `subjects` subjects, BENCH_PARTITIONS partitions, offset `i`; `body` is what follows `time`.
 */
function storedFixture({ tenant, i, topic, source, subjects, body }) {
  return toStoredEvent({
    tenant,
    event: {
      specversion: '1.0',
      id: `bench-${i}`,
      source,
      type: `com.example.bench.${i % 5}`,
      subject: `subject-${i % subjects}`,
      time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
      ...body,
    },
    receivedAt: new Date(),
    topic,
    partition: i % BENCH_PARTITIONS,
    offset: String(i),
  });
}

/**
 * Removes a tenant's events one partition of the bench topics at a time: the local store refuses
 * a delete of more than 65,535 documents in one command, and pushes down only equality filters (an
 * `_id: {$in}` slice would scan the whole collection each time).
 */
async function deleteTenantEvents(events, tenant) {
  for (let partition = 0; partition < BENCH_PARTITIONS; partition++)
    await events.deleteMany({ tenant, partition });
}

module.exports = {
  BENCH_PARTITIONS,
  ROOT,
  deleteTenantEvents,
  freePort,
  startService,
  measure,
  measureLoop,
  saveResult,
  runScenario,
  storedFixture,
};
