// Stats of one day: GET /v1/stats (read from the rollups) against the raw aggregation over the
// day's events that stats used to run (the "before"), on the same replica, at each day size.
//
//   node loadtest/scenarios/stats.js          (after `npm run build`; infrastructure up)
//   STATS_BENCH_EVENTS=20000,200000 STATS_BENCH_SECONDS=10 node loadtest/scenarios/stats.js
//
// Events are inserted through the primary; their rollups come from the backfill command's own
// function (services/writer/dist/backfill-rollups.js), timed. Results: loadtest/results/stats.json.
const { randomBytes } = require('node:crypto');
const { MongoClient } = require('mongodb');
const { SCOPES, STORE, createReadClient, signPrincipal, timeBuckets } = require('@splitstream/shared');
const { backfillRollups } = require('../../services/writer/dist/backfill-rollups');
const {
  BENCH_PARTITIONS,
  deleteTenantEvents,
  measure,
  measureLoop,
  startService,
  saveResult,
  runScenario,
  storedFixture,
} = require('../lib');

const SIZES = (process.env.STATS_BENCH_EVENTS ?? '20000,200000').split(',').map(Number);
const SECONDS = Number(process.env.STATS_BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.STATS_BENCH_CONNECTIONS ?? 10);
const WRITE_URI =
  process.env.MONGO_WRITE_URI ?? 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false';
const READ_URI =
  process.env.MONGO_READ_URI ?? 'mongodb://127.0.0.1:27018/?directConnection=true&retryWrites=false';
const SECRET = process.env.INTERNAL_AUTH_SECRET ?? 'splitstream-dev-internal-secret';
const DAY = Date.UTC(2026, 0, 1);

const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const log = (line) => process.stderr.write(`${line}\n`);

async function main() {
  const primary = await new MongoClient(WRITE_URI).connect();
  const replica = await createReadClient(READ_URI).connect();
  const query = await startService('query', {
    MONGO_READ_URI: READ_URI,
    MONGO_WRITE_URI: WRITE_URI,
    INTERNAL_AUTH_SECRET: SECRET,
  });
  const written = primary.db(STORE.database);
  const read = replica.db(STORE.database);
  const days = [];
  const cleanups = [];
  try {
    for (const size of SIZES) {
      const tenant = unique('bench-stats');
      const topic = unique('bench-stats-topic');
      cleanups.push({ tenant, topic });
      log(`stats: inserting ${size} events in one day for ${tenant}`);
      const events = written.collection(STORE.collections.events);
      for (let start = 0; start < size; start += 1_000) {
        const docs = [];
        for (let i = start; i < Math.min(size, start + 1_000); i++) {
          const doc = storedFixture({ tenant, i, topic, source: '/bench/stats', subjects: 200, body: {} });
          // Spread over the day (storedFixture puts events one second apart).
          const time = new Date(DAY + Math.floor((i * 86_400_000) / size));
          docs.push({ ...doc, time, buckets: timeBuckets(time) });
        }
        await events.insertMany(docs, { ordered: false });
      }
      await written.collection(STORE.collections.checkpoints).insertMany(
        Array.from({ length: BENCH_PARTITIONS }, (_, partition) => ({
          _id: `${topic}/${partition}`,
          topic,
          partition,
          offset: String(size),
          updatedAt: new Date(),
        })),
      );
      const started = Date.now();
      const backfill = await backfillRollups(written, { topics: [topic] });
      const backfillSeconds = (Date.now() - started) / 1000;
      log(`stats: backfilled ${backfill.events} events in ${backfill.blocks} blocks, ${backfillSeconds} s`);

      const since = new Date(DAY);
      const until = new Date(DAY + 86_400_000);
      const path = `/v1/stats?by=type&interval=hour&since=${since.toISOString()}&until=${until.toISOString()}`;
      // Replicated once the replica's answer counts every event (the standby applies writes in order).
      for (let waited = 0; ; waited += 500) {
        const check = await fetch(`${query.url}${path}`, {
          headers: signPrincipal(SECRET, { tenant, scopes: [SCOPES.read] }),
        });
        const answer = await check.json();
        if (check.status === 200 && answer.total === size) break;
        if (waited > 120_000)
          throw new Error(`stats answered ${check.status} with total ${answer.total}, expected ${size}`);
        await new Promise((r) => setTimeout(r, 500));
      }

      log(`stats: GET /v1/stats over ${size} events, ${CONNECTIONS} connections, ${SECONDS} s`);
      const service = await measure({
        title: `GET /v1/stats (rollups), ${size} events`,
        url: query.url,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [
          {
            method: 'GET',
            path,
            setupRequest: (request) => ({
              ...request,
              headers: { ...request.headers, ...signPrincipal(SECRET, { tenant, scopes: [SCOPES.read] }) },
            }),
          },
        ],
      });
      log(`stats: raw aggregation over the ${size} events (what stats ran before rollups), one at a time`);
      const rawAggregation = await measureLoop(
        `aggregate $match tenant+time, $group hour+type, ${size} events`,
        () =>
          read
            .collection(STORE.collections.events)
            .aggregate([
              { $match: { tenant, time: { $gte: since, $lt: until } } },
              { $group: { _id: { bucket: '$buckets.hour', key: '$type' }, count: { $sum: 1 } } },
            ])
            .toArray(),
        { concurrency: 1, seconds: SECONDS },
      );
      days.push({
        events: size,
        backfillSeconds,
        rollups: service,
        rawAggregation,
        p99Ratio: rawAggregation.latencyMs.p99 / service.latencyMs.p99,
      });
    }
    saveResult('stats', { connections: CONNECTIONS, seconds: SECONDS, days });
  } finally {
    await query.stop();
    for (const { tenant, topic } of cleanups) {
      await deleteTenantEvents(written.collection(STORE.collections.events), tenant);
      await written.collection(STORE.collections.rollups).deleteMany({ tenant });
      await written.collection(STORE.collections.rollupLedger).deleteMany({ topic });
      await written.collection(STORE.collections.checkpoints).deleteMany({ topic });
    }
    await Promise.all([primary.close(), replica.close()]);
  }
}

runScenario(main);
