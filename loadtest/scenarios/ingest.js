// Ingest writes: single-event POST /v1/events at 100 connections straight to an ingest process
// (signed internal headers, as the gateway sends them), with the micro-batcher and without it
// (INGEST_MICROBATCH=false: one sendBatch per request), and 100-event batches, in one run. Every
// 202 is acks=all in Kafka. Ceilings measured in the same run: a bare Fastify server validating
// the same bodies with the same schema and validator (loadtest/ceilings/bare-ingest.js), and a
// raw kafkajs producer loop (idempotent, acks=all) sending the same events one per send.
//
//   node loadtest/scenarios/ingest.js          (after `npm run build`; infrastructure up)
//   INGEST_BENCH_SECONDS=10 INGEST_BENCH_CONNECTIONS=100 INGEST_BENCH_MODES=microbatch,unbatched node loadtest/scenarios/ingest.js
//
// Each mode gets a fresh ingest process on its own 6-partition topic (deleted afterwards), a
// warm-up run, then the measured run. events/s = 202s per second. Results: loadtest/results/ingest.json.
const { randomBytes } = require('node:crypto');
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { CompressionTypes, Kafka, logLevel } = require('kafkajs');
const { SCOPES, TOPICS, signPrincipal } = require('@splitstream/shared');
const { createServedTopics } = require('@splitstream/shared/testing');
const { freePort, measure, measureLoop, startService, saveResult, runScenario } = require('../lib');

const SECONDS = Number(process.env.INGEST_BENCH_SECONDS ?? 10);
const WARMUP_SECONDS = Number(process.env.INGEST_BENCH_WARMUP_SECONDS ?? 2);
const CONNECTIONS = Number(process.env.INGEST_BENCH_CONNECTIONS ?? 100);
const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const SECRET = process.env.INTERNAL_AUTH_SECRET ?? 'splitstream-dev-internal-secret';
/** Service settings per mode; everything else is the service's defaults. */
const MODES = {
  microbatch: { INGEST_MICROBATCH: 'true' },
  unbatched: { INGEST_MICROBATCH: 'false' },
};
const SELECTED = (process.env.INGEST_BENCH_MODES ?? Object.keys(MODES).join(',')).split(',');
const BATCH = 100;

const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const log = (line) => process.stderr.write(`${line}\n`);

const run = randomBytes(4).toString('hex');
let n = 0;
/** A fresh event of the benchmark (unique id). */
function benchEvent() {
  n += 1;
  return {
    specversion: '1.0',
    id: `bench-${run}-${n}`,
    source: '/bench/ingest',
    type: 'com.example.bench.order.created',
    subject: `order-${n % 1000}`,
    datacontenttype: 'application/json',
    data: { orderId: n, total: (n % 1000) / 10, items: [{ sku: `sku-${n % 97}`, qty: 1 + (n % 3) }] },
  };
}

/**
 * autocannon request with fresh events and the gateway signature per request (signatures expire):
 * one event to /v1/events, or `batch` events to /v1/events/batch.
 */
function eventRequest(tenant, batch = 0) {
  return {
    method: 'POST',
    path: batch ? '/v1/events/batch' : '/v1/events',
    setupRequest: (request) => ({
      ...request,
      headers: {
        ...request.headers,
        'content-type': 'application/json',
        ...signPrincipal(SECRET, { tenant, scopes: [SCOPES.write] }),
      },
      body: JSON.stringify(batch ? Array.from({ length: batch }, benchEvent) : benchEvent()),
    }),
  };
}

const post = (title, url, request) =>
  measure(
    { title, url, connections: CONNECTIONS, duration: SECONDS, requests: [request] },
    { warmupSeconds: WARMUP_SECONDS },
  );

/** The bare Fastify ceiling, single events and batches, in its own process. */
async function bareCeiling() {
  const port = await freePort();
  const child = spawn(process.execPath, [join(__dirname, '..', 'ceilings', 'bare-ingest.js')], {
    env: { ...process.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let tries = 0; ; tries++) {
      try {
        if ((await fetch(`${url}/readyz`)).ok) break;
      } catch {}
      if (tries > 100) throw new Error('the bare Fastify ceiling did not start');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    log(`bare Fastify ceiling: ${CONNECTIONS} connections, single events then batches of ${BATCH}`);
    const single = await post('bare Fastify POST /v1/events', url, eventRequest('bare'));
    const batch = await post(
      `bare Fastify POST /v1/events/batch (${BATCH})`,
      url,
      eventRequest('bare', BATCH),
    );
    return { single, batch: { ...batch, eventsPerSecond: batch.requestsPerSecond * BATCH } };
  } finally {
    child.kill('SIGTERM');
  }
}

/** A raw kafkajs loop: CONNECTIONS concurrent sends of one event each, idempotent, acks=all. */
async function rawProducerCeiling(kafka, admin) {
  const topic = unique('bench-ingest-raw');
  await createServedTopics(admin, [{ topic, numPartitions: TOPICS.events.partitions }]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    log(`raw kafkajs producer loop: ${CONNECTIONS} concurrent single-event sends`);
    const send = () =>
      producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: [{ key: `order-${n % 1000}`, value: JSON.stringify(benchEvent()) }],
      });
    await measureLoop('kafkajs send() loop (warm-up)', send, {
      concurrency: CONNECTIONS,
      seconds: WARMUP_SECONDS,
    });
    const result = await measureLoop('kafkajs send() loop, one event per send', send, {
      concurrency: CONNECTIONS,
      seconds: SECONDS,
    });
    return { ...result, eventsPerSecond: result.requestsPerSecond };
  } finally {
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  }
}

async function highWatermarkSum(admin, topic) {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, o) => sum + Number(o.high), 0);
}

async function runMode(admin, mode) {
  const topic = unique(`bench-ingest-${mode}`);
  await createServedTopics(admin, [{ topic, numPartitions: TOPICS.events.partitions }]);
  let ingest;
  try {
    ingest = await startService('ingest', {
      KAFKA_BROKERS: BROKERS,
      KAFKA_TOPIC: topic,
      INTERNAL_AUTH_SECRET: SECRET,
      ...MODES[mode],
    });
    const tenant = unique('bench-tenant');
    log(`ingest ${mode}: ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${SECONDS} s`);
    const result = await post(`POST /v1/events (${mode})`, ingest.url, eventRequest(tenant));
    const batch =
      mode === 'microbatch'
        ? await post(`POST /v1/events/batch of ${BATCH} (${mode})`, ingest.url, eventRequest(tenant, BATCH))
        : undefined;
    const metrics = await (await fetch(`${ingest.url}/metrics`)).text();
    // Sum over label sets (e.g. rejections by reason); 0 when the metric has no sample yet.
    const metric = (name) =>
      [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'gm'))].reduce(
        (sum, m) => sum + Number(m[1]),
        0,
      );
    const sends = metric('ingest_producer_batch_messages_count');
    const sent = metric('ingest_producer_batch_messages_sum');
    return {
      mode,
      settings: MODES[mode],
      ...result,
      eventsPerSecond: result.requestsPerSecond,
      // Warm-up included: all 202s the process gave, and what the topic holds (must not be less).
      accepted: metric('ingest_accepted_events_total'),
      inTopic: await highWatermarkSum(admin, topic),
      meanMessagesPerSend: sent / sends,
      rejected: metric('ingest_rejections_total'),
      ...(batch ? { batch: { ...batch, eventsPerSecond: batch.requestsPerSecond * BATCH } } : {}),
    };
  } finally {
    if (ingest) await ingest.stop();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
  }
}

async function main() {
  const kafka = new Kafka({
    clientId: 'bench-ingest',
    brokers: BROKERS.split(','),
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const runs = [];
    for (const mode of SELECTED) {
      if (!MODES[mode]) throw new Error(`unknown mode ${mode}; use ${Object.keys(MODES).join(', ')}`);
      runs.push(await runMode(admin, mode));
    }
    const bare = await bareCeiling();
    const rawProducer = await rawProducerCeiling(kafka, admin);
    const microbatch = runs.find((r) => r.mode === 'microbatch');
    saveResult('ingest', {
      connections: CONNECTIONS,
      seconds: SECONDS,
      batchSize: BATCH,
      runs,
      ceilings: { bareFastify: bare, rawProducer },
      ...(microbatch
        ? {
            vsCeilings: {
              singleVsBareFastify: microbatch.requestsPerSecond / bare.single.requestsPerSecond,
              batchVsBareFastify: microbatch.batch.eventsPerSecond / bare.batch.eventsPerSecond,
              singleVsRawProducer: microbatch.eventsPerSecond / rawProducer.eventsPerSecond,
            },
          }
        : {}),
    });
  } finally {
    await admin.disconnect();
  }
}

runScenario(main);
