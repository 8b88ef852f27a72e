// The read/write split measured: do reads keep their latency while writes surge, and how long does
// an event take from its 202 to being readable on the replica?
//
//   node loadtest/scenarios/split.js           (after `npm run build`; infrastructure up)
//   SPLIT_BENCH_SECONDS=5 node loadtest/scenarios/split.js
//
// One ingest, one writer and one query process on a topic of their own, requests straight to the
// services with the internal proof the gateway would add. In one run:
//   1. ingest capacity: single-event POSTs, closed loop, 50 connections;
//   2. reads alone: get-by-id at a fixed rate (READ_RATE/s) on the replica, p50/p99;
//   3. reads during a write surge: the same reads while POSTs arrive at 80% of that capacity;
//   4. arrival → readable: at half the capacity, probe events timed from their 202 until the
//      replica returns them (polled with the driver on the read endpoint), p50/p95/p99;
//   5. CPU and RSS of each service process over the surge (from /proc);
//   6. latency against offered load: writes at 20..100% of the capacity with the same reads beside
//      them, write and read p50/p99 at each step (the report draws it as an SVG chart).
// Results: loadtest/results/split.json.
const { readFileSync } = require('node:fs');
const { randomBytes } = require('node:crypto');
const autocannon = require('autocannon');
const { Kafka, logLevel } = require('kafkajs');
const { MongoClient } = require('mongodb');
const { SCOPES, STORE, signPrincipal } = require('@splitstream/shared');
const { createServedTopics } = require('@splitstream/shared/testing');
const {
  BENCH_PARTITIONS,
  deleteTenantEvents,
  measure,
  runScenario,
  saveResult,
  startService,
  storedFixture,
} = require('../lib');

const SECONDS = Number(process.env.SPLIT_BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.SPLIT_BENCH_CONNECTIONS ?? 50);
const READ_RATE = Number(process.env.SPLIT_BENCH_READ_RATE ?? 200);
const PROBES_PER_SECOND = 10;
/**
 * How often a pending probe looks for its event on the replica: the figure's resolution. Every
 * look is a query the replica serves beside the load, so looking every 5 ms fed back on itself (a
 * slow run kept more probes pending, whose looks slowed it further: p50 1.4 s in one run).
 */
const PROBE_POLL_MS = 20;
const FIXTURES = 1_000;
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const WRITE_URI =
  process.env.MONGO_WRITE_URI ?? 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false';
const READ_URI =
  process.env.MONGO_READ_URI ?? 'mongodb://127.0.0.1:27018/?directConnection=true&retryWrites=false';
const SECRET = `bench-${randomBytes(12).toString('hex')}`;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function percentiles(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.at(-1) };
}

/** CPU ticks and resident memory of a process, from /proc. */
function processUsage(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { ticks: Number(fields[11]) + Number(fields[12]), rssMb: rssKb / 1024 };
}

/** Runs `during` while sampling each service's CPU (share of one core) and peak RSS. */
async function usageOver(services, during) {
  const start = Object.fromEntries(services.map((s) => [s.name, processUsage(s.pid)]));
  const peakRss = Object.fromEntries(services.map((s) => [s.name, start[s.name].rssMb]));
  const sampler = setInterval(() => {
    for (const s of services) peakRss[s.name] = Math.max(peakRss[s.name], processUsage(s.pid).rssMb);
  }, 500);
  const began = Date.now();
  try {
    const value = await during();
    const seconds = (Date.now() - began) / 1000;
    const usage = Object.fromEntries(
      services.map((s) => {
        const ticks = processUsage(s.pid).ticks - start[s.name].ticks;
        return [
          s.name,
          { cpuCores: ticks / TICKS_PER_SECOND / seconds, peakRssMb: Math.round(peakRss[s.name]) },
        ];
      }),
    );
    return { value, usage };
  } finally {
    clearInterval(sampler);
  }
}

async function main() {
  const writeTenant = unique('bench-split-w');
  const readTenant = unique('bench-split-r');
  const topic = unique('bench-split-topic');
  const deadLetters = unique('bench-split-dlt');
  const admin = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).admin();
  const primary = await new MongoClient(WRITE_URI).connect();
  const replica = await new MongoClient(READ_URI).connect();
  const events = primary.db(STORE.database).collection(STORE.collections.events);
  const replicaEvents = replica.db(STORE.database).collection(STORE.collections.events);
  const started = [];
  try {
    await admin.connect();
    await createServedTopics(admin, [
      { topic, numPartitions: BENCH_PARTITIONS },
      { topic: deadLetters, numPartitions: 1 },
    ]);
    log(`inserting ${FIXTURES} read fixtures for ${readTenant}`);
    await events.insertMany(
      Array.from({ length: FIXTURES }, (_, i) =>
        storedFixture({ tenant: readTenant, i, topic, source: '/bench/split', subjects: 20, body: {} }),
      ),
      { ordered: false },
    );
    const common = { INTERNAL_AUTH_SECRET: SECRET, KAFKA_TOPIC: topic };
    const ingest = { name: 'ingest', ...(await startService('ingest', common)) };
    started.push(ingest);
    const writer = {
      name: 'writer',
      ...(await startService('writer', {
        ...common,
        KAFKA_DEAD_LETTER_TOPIC: deadLetters,
        KAFKA_GROUP_ID: unique('bench-split'),
      })),
    };
    started.push(writer);
    const query = { name: 'query', ...(await startService('query', common)) };
    started.push(query);
    while ((await replicaEvents.countDocuments({ tenant: readTenant })) < FIXTURES) await sleep(100);

    const writeAuth = () => signPrincipal(SECRET, { tenant: writeTenant, scopes: [SCOPES.write] });
    const readAuth = () => signPrincipal(SECRET, { tenant: readTenant, scopes: [SCOPES.read] });
    let seq = 0;
    const eventBody = (id) =>
      JSON.stringify({
        specversion: '1.0',
        id,
        source: '/bench/split',
        type: 'com.example.bench.split',
        subject: `subject-${seq % 50}`,
        data: { seq, note: 'x'.repeat(200) },
      });
    const post = {
      method: 'POST',
      path: '/v1/events',
      setupRequest: (request) => ({
        ...request,
        headers: { 'content-type': 'application/json', ...writeAuth() },
        body: eventBody(`split-${seq++}`),
      }),
    };
    const read = {
      method: 'GET',
      setupRequest: (request) => ({
        ...request,
        path: `/v1/events/bench-${Math.floor(Math.random() * FIXTURES)}?source=/bench/split`,
        headers: readAuth(),
      }),
    };
    const summary = (title, result) => ({
      title,
      requestsPerSecond: result.requests.average,
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      non2xx: result.non2xx,
      errors: result.errors,
    });
    const reads = (title) =>
      autocannon({
        url: query.url,
        connections: 20,
        overallRate: READ_RATE,
        duration: SECONDS,
        requests: [read],
      }).then((r) => summary(title, r));
    const writes = (rate, seconds = SECONDS) =>
      autocannon({
        url: ingest.url,
        connections: CONNECTIONS,
        overallRate: rate,
        duration: seconds,
        requests: [post],
      });

    log(`1. ingest capacity: ${CONNECTIONS} connections, ${SECONDS} s`);
    const capacity = await measure({
      title: 'POST /v1/events straight to ingest',
      url: ingest.url,
      connections: CONNECTIONS,
      duration: SECONDS,
      requests: [post],
    });
    const capacityRps = capacity.requestsPerSecond;
    // Let the writer drain what the capacity run wrote before measuring reads alone.
    await sleep(5_000);

    log(`2. reads alone: ${READ_RATE} get-by-id/s for ${SECONDS} s`);
    const readsAlone = await reads('get-by-id alone');

    const surgeRate = Math.round(0.8 * capacityRps);
    log(`3. reads during a write surge of ${surgeRate} POSTs/s (80% of ${Math.round(capacityRps)})`);
    const surge = await usageOver([ingest, writer, query], () =>
      Promise.all([writes(surgeRate), reads('get-by-id during the surge')]),
    );
    const [surgeWrites, readsDuringSurge] = surge.value;
    await sleep(5_000);

    const halfRate = Math.round(0.5 * capacityRps);
    log(`4. arrival → readable at ${halfRate} POSTs/s (half the capacity), ${PROBES_PER_SECOND} probes/s`);
    const probes = [];
    const load = writes(halfRate);
    const probing = (async () => {
      const deadline = Date.now() + SECONDS * 1000;
      const pending = [];
      while (Date.now() < deadline) {
        const id = `probe-${seq++}`;
        pending.push(
          (async () => {
            const response = await fetch(`${ingest.url}/v1/events`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', ...writeAuth() },
              body: eventBody(id),
            });
            if (response.status !== 202) return;
            const acceptedAt = performance.now();
            const until = acceptedAt + 30_000;
            while (performance.now() < until) {
              if (await replicaEvents.findOne({ tenant: writeTenant, id }, { projection: { _id: 1 } })) {
                probes.push(performance.now() - acceptedAt);
                return;
              }
              await sleep(PROBE_POLL_MS);
            }
          })(),
        );
        await sleep(1000 / PROBES_PER_SECOND);
      }
      await Promise.all(pending);
    })();
    const [halfLoad] = await Promise.all([load, probing]);

    log('6. latency against offered load: writes at 20, 40, 60, 80 and 100% of the capacity, reads beside');
    const sweep = [];
    for (const fraction of [0.2, 0.4, 0.6, 0.8, 1]) {
      const offered = Math.round(fraction * capacityRps);
      const [w, r] = await Promise.all([writes(offered), reads(`get-by-id beside ${offered} POSTs/s`)]);
      sweep.push({ offeredWritesPerSecond: offered, writes: summary(`POST at ${offered}/s`, w), reads: r });
      await sleep(2_000);
    }

    saveResult('split', {
      seconds: SECONDS,
      readRate: READ_RATE,
      ingestCapacity: capacity,
      readsAlone,
      surge: {
        offeredWritesPerSecond: surgeRate,
        writes: summary('POST /v1/events during the surge', surgeWrites),
        reads: readsDuringSurge,
        readP99Ratio: readsDuringSurge.latencyMs.p99 / readsAlone.latencyMs.p99,
        usage: surge.usage,
      },
      arrivalToReadable: {
        offeredWritesPerSecond: halfRate,
        pollMs: PROBE_POLL_MS,
        writes: summary('POST /v1/events at half load', halfLoad),
        latencyMs: percentiles(probes),
      },
      sweep,
    });
  } finally {
    for (const service of started.reverse()) await service.stop();
    for (const tenant of [readTenant, writeTenant]) await deleteTenantEvents(events, tenant);
    await primary.db(STORE.database).collection(STORE.collections.checkpoints).deleteMany({ topic });
    await admin.deleteTopics({ topics: [topic, deadLetters] }).catch(() => {});
    await Promise.all([admin.disconnect(), primary.close(), replica.close()]);
  }
}

runScenario(main);
