// Gateway overhead: req/s and latency of the same requests through the gateway and straight to
// ingest and query, against the same service processes, in one run.
//
//   node loadtest/scenarios/gateway.js          (after `npm run build`; infrastructure up)
//   GATEWAY_BENCH_SECONDS=10 GATEWAY_BENCH_CONNECTIONS=50 node loadtest/scenarios/gateway.js
//
// One ingest, one query and one gateway process, each in its own process, on a topic of their own;
// the tenant's read fixtures are inserted through the primary. Direct requests carry the internal
// proof the gateway would add, signed per request (it expires after 60 s), so both paths do the
// same work behind the gateway. Each measurement is a warm-up run then the measured run.
// Results: loadtest/results/gateway.json.
const { createHash, randomBytes } = require('node:crypto');
const { Kafka, logLevel } = require('kafkajs');
const { MongoClient } = require('mongodb');
const { SCOPES, STORE, signPrincipal } = require('@splitstream/shared');
const { createServedTopics } = require('@splitstream/shared/testing');
const { BENCH_PARTITIONS, measure, startService, saveResult, runScenario, storedFixture } = require('../lib');

const SECONDS = Number(process.env.GATEWAY_BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.GATEWAY_BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.GATEWAY_BENCH_CONNECTIONS ?? 50);
const EVENTS = Number(process.env.GATEWAY_BENCH_EVENTS ?? 500);
const BATCH = 100;
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const WRITE_URI =
  process.env.MONGO_WRITE_URI ?? 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false';
const SECRET = `bench-${randomBytes(12).toString('hex')}`;

const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const log = (line) => process.stderr.write(`${line}\n`);
const randomId = () => `bench-${Math.floor(Math.random() * EVENTS)}`;

function fixture(tenant, i, topic) {
  const body = { data: { orderId: i, total: (i % 1000) / 10 } };
  return storedFixture({ tenant, i, topic, source: '/bench/gateway', subjects: 50, body });
}

async function main() {
  const tenant = unique('bench-gateway');
  const principal = { tenant, scopes: [SCOPES.read, SCOPES.write] };
  const key = `sk_bench_${randomBytes(16).toString('hex')}`;
  const apiKeys = [
    { id: 'bench', hash: createHash('sha256').update(key).digest('hex'), tenant, scopes: principal.scopes },
  ];
  const topic = unique('bench-gateway-topic');
  const admin = new Kafka({ brokers: BROKERS, logLevel: logLevel.NOTHING }).admin();
  const primary = await new MongoClient(WRITE_URI).connect();
  const events = primary.db(STORE.database).collection(STORE.collections.events);
  const started = [];
  try {
    await admin.connect();
    await createServedTopics(admin, [{ topic, numPartitions: BENCH_PARTITIONS }]);
    log(`inserting ${EVENTS} read fixtures for ${tenant}`);
    await events.insertMany(
      Array.from({ length: EVENTS }, (_, i) => fixture(tenant, i, topic)),
      { ordered: false },
    );

    const common = { INTERNAL_AUTH_SECRET: SECRET, KAFKA_TOPIC: topic };
    const ingest = await startService('ingest', common);
    started.push(ingest);
    const query = await startService('query', common);
    started.push(query);
    const gateway = await startService('gateway', {
      INTERNAL_AUTH_SECRET: SECRET,
      API_KEYS: JSON.stringify(apiKeys),
      RATE_LIMIT_MAX: String(1_000_000_000),
      INGEST_UPSTREAMS: ingest.url,
      QUERY_UPSTREAMS: query.url,
    });
    started.push(gateway);
    // The replica has the fixtures once the last one reads back, through the gateway.
    for (;;) {
      const r = await fetch(`${gateway.url}/v1/events/bench-${EVENTS - 1}`, {
        headers: { 'x-api-key': key },
      });
      if (r.status === 200) break;
      if (r.status !== 404) throw new Error(`gateway read answered ${r.status}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const auth = (direct) => (direct ? signPrincipal(SECRET, principal) : { authorization: `Bearer ${key}` });
    let seq = 0;
    const newEvent = () => ({
      specversion: '1.0',
      id: `bench-post-${seq++}`,
      source: '/bench/gateway',
      type: 'com.example.bench.posted',
      subject: `subject-${seq % 50}`,
      data: { seq, note: 'x'.repeat(200) },
    });
    // One event to /v1/events, or a batch of `size` to /v1/events/batch.
    const postEvents = (direct, size = 0) => ({
      method: 'POST',
      path: size ? '/v1/events/batch' : '/v1/events',
      setupRequest: (request) => ({
        ...request,
        headers: { 'content-type': 'application/json', ...auth(direct) },
        body: JSON.stringify(size ? Array.from({ length: size }, newEvent) : newEvent()),
      }),
    });
    const getById = (direct) => ({
      method: 'GET',
      setupRequest: (request) => ({ ...request, path: `/v1/events/${randomId()}`, headers: auth(direct) }),
    });
    const run = (title, url, request) =>
      measure(
        { title, url, connections: CONNECTIONS, duration: SECONDS, requests: [request] },
        { warmupSeconds: WARMUP_SECONDS },
      );
    const pairs = {
      postEvent: [
        ['POST /v1/events straight to ingest', ingest.url, postEvents(true)],
        ['POST /v1/events through the gateway', gateway.url, postEvents(false)],
      ],
      postBatch: [
        [`POST /v1/events/batch of ${BATCH} straight to ingest`, ingest.url, postEvents(true, BATCH)],
        [`POST /v1/events/batch of ${BATCH} through the gateway`, gateway.url, postEvents(false, BATCH)],
      ],
      getById: [
        ['GET /v1/events/{id} straight to query', query.url, getById(true)],
        ['GET /v1/events/{id} through the gateway', gateway.url, getById(false)],
      ],
    };
    const result = {
      connections: CONNECTIONS,
      seconds: SECONDS,
    };
    for (const [
      name,
      [[directTitle, directUrl, directRequest], [viaTitle, viaUrl, viaRequest]],
    ] of Object.entries(pairs)) {
      log(`${name}: straight, ${CONNECTIONS} connections, ${SECONDS} s`);
      const direct = await run(directTitle, directUrl, directRequest);
      log(`${name}: through the gateway`);
      const through = await run(viaTitle, viaUrl, viaRequest);
      result[name] = {
        ...(name === 'postBatch' ? { eventsPerRequest: BATCH } : {}),
        direct,
        throughGateway: through,
        requestsPerSecondRatio: through.requestsPerSecond / direct.requestsPerSecond,
        p99AddedMs: through.latencyMs.p99 - direct.latencyMs.p99,
      };
    }
    saveResult('gateway', result);
  } finally {
    await Promise.all(started.map((s) => s.stop()));
    await events.deleteMany({ tenant });
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await Promise.all([admin.disconnect(), primary.close()]);
  }
}

runScenario(main);
