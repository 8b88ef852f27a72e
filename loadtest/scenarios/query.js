// Query reads: get-by-id and a 100-item page at 100 connections against a query process, beside the
// ceiling, a raw driver loop doing the same reads on the same read endpoint, in one run.
//
//   node loadtest/scenarios/query.js          (after `npm run build`; infrastructure up)
//   QUERY_BENCH_SECONDS=10 QUERY_BENCH_EVENTS=2000 QUERY_BENCH_CONNECTIONS=100 node loadtest/scenarios/query.js
//
// The query service runs in its own process (services/query/dist/server.js) on its own tenant and
// checkpoint topic; fixtures are inserted through the primary and read back from the replica.
// Each measurement is a warm-up run then the measured run. Results: loadtest/results/query.json.
const { randomBytes } = require('node:crypto');
const { MongoClient } = require('mongodb');
const { SCOPES, STORE, createReadClient, signPrincipal } = require('@splitstream/shared');
const { measure, measureLoop, startService, saveResult, runScenario, storedFixture } = require('../lib');

const SECONDS = Number(process.env.QUERY_BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.QUERY_BENCH_WARMUP_SECONDS ?? 2);
const EVENTS = Number(process.env.QUERY_BENCH_EVENTS ?? 2_000);
const CONNECTIONS = Number(process.env.QUERY_BENCH_CONNECTIONS ?? 100);
const PAGE = 100;
const WRITE_URI =
  process.env.MONGO_WRITE_URI ?? 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false';
const READ_URI =
  process.env.MONGO_READ_URI ?? 'mongodb://127.0.0.1:27018/?directConnection=true&retryWrites=false';
const SECRET = process.env.INTERNAL_AUTH_SECRET ?? 'splitstream-dev-internal-secret';

const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const log = (line) => process.stderr.write(`${line}\n`);
const randomId = () => `bench-${Math.floor(Math.random() * EVENTS)}`;

function fixture(tenant, i) {
  const body = {
    datacontenttype: 'application/json',
    data: { orderId: i, total: (i % 1000) / 10, items: [{ sku: `sku-${i % 97}`, qty: 1 + (i % 3) }] },
  };
  return storedFixture({ tenant, i, topic: 'bench-query', source: '/bench/query', subjects: 200, body });
}

/** autocannon request whose path and gateway signature are made per request (signatures expire). */
function signedRequest(tenant, path) {
  return {
    method: 'GET',
    setupRequest: (request) => ({
      ...request,
      path: path(),
      headers: { ...request.headers, ...signPrincipal(SECRET, { tenant, scopes: [SCOPES.read] }) },
    }),
  };
}

async function main() {
  const primary = await new MongoClient(WRITE_URI).connect();
  // The ceiling reads through the same client settings as the service (secondaryPreferred, pool 100).
  const replica = await createReadClient(READ_URI, { maxPoolSize: CONNECTIONS }).connect();
  const tenant = unique('bench-query');
  const topic = unique('bench-query-topic');
  let query;
  try {
    log(`inserting ${EVENTS} events for ${tenant} through the primary`);
    const written = primary.db(STORE.database).collection(STORE.collections.events);
    for (let start = 0; start < EVENTS; start += 1_000) {
      const docs = [];
      for (let i = start; i < Math.min(EVENTS, start + 1_000); i++) docs.push(fixture(tenant, i));
      await written.insertMany(docs, { ordered: false });
    }
    const events = replica.db(STORE.database).collection(STORE.collections.events);
    while ((await events.countDocuments({ tenant })) < EVENTS) await new Promise((r) => setTimeout(r, 100));
    const tableSize = await events.estimatedDocumentCount();

    query = await startService('query', {
      MONGO_READ_URI: READ_URI,
      MONGO_WRITE_URI: WRITE_URI,
      KAFKA_TOPIC: topic,
      INTERNAL_AUTH_SECRET: SECRET,
    });
    const check = await fetch(`${query.url}/v1/events/bench-1`, {
      headers: signPrincipal(SECRET, { tenant, scopes: [SCOPES.read] }),
    });
    if (check.status !== 200 || check.headers.get('splitstream-served-by') !== 'replica') {
      throw new Error(`query answered ${check.status} from ${check.headers.get('splitstream-served-by')}`);
    }

    const http = (title, path) =>
      measure(
        {
          title,
          url: query.url,
          connections: CONNECTIONS,
          duration: SECONDS,
          requests: [signedRequest(tenant, path)],
        },
        { warmupSeconds: WARMUP_SECONDS },
      );
    // The same reads the service makes (domain/events.ts): by id without source (limit 2, to detect
    // an id shared by sources), and the first page of 100 by (time, _id) asking for one more.
    const rawById = () => events.find({ tenant, id: randomId() }).limit(2).toArray();
    const rawPage = () =>
      events
        .find({ tenant })
        .sort({ time: 1, _id: 1 })
        .limit(PAGE + 1)
        .toArray();
    const loop = async (title, fn) => {
      await measureLoop(title, fn, { concurrency: CONNECTIONS, seconds: WARMUP_SECONDS });
      return measureLoop(title, fn, { concurrency: CONNECTIONS, seconds: SECONDS });
    };

    log(`get-by-id: query service, ${CONNECTIONS} connections, ${SECONDS} s`);
    const byIdHttp = await http('GET /v1/events/{id}', () => `/v1/events/${randomId()}`);
    log('get-by-id: raw driver loop');
    const byIdRaw = await loop('driver find({tenant, id})', rawById);
    log(`page of ${PAGE}: query service`);
    const pageHttp = await http(`GET /v1/events?limit=${PAGE}`, () => `/v1/events?limit=${PAGE}`);
    log(`page of ${PAGE}: raw driver loop`);
    const pageRaw = await loop(`driver find({tenant}).sort(time,_id).limit(${PAGE + 1})`, rawPage);

    const ratio = (service, ceiling) => service.requestsPerSecond / ceiling.requestsPerSecond;
    saveResult('query', {
      connections: CONNECTIONS,
      seconds: SECONDS,
      tenantEvents: EVENTS,
      eventsInStore: tableSize,
      getById: { service: byIdHttp, rawDriver: byIdRaw, serviceVsCeiling: ratio(byIdHttp, byIdRaw) },
      page100: { service: pageHttp, rawDriver: pageRaw, serviceVsCeiling: ratio(pageHttp, pageRaw) },
    });
  } finally {
    if (query) await query.stop();
    await primary.db(STORE.database).collection(STORE.collections.events).deleteMany({ tenant });
    await Promise.all([primary.close(), replica.close()]);
  }
}

runScenario(main);
