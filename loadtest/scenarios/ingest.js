// Ingest writes: single-event POST /v1/events at 100 connections straight to an ingest process
// (signed internal headers, as the gateway sends them), with the micro-batcher and without it
// (INGEST_MICROBATCH=false: one sendBatch per request), in one run. Every 202 is acks=all in Kafka.
//
//   node loadtest/scenarios/ingest.js          (after `npm run build`; infrastructure up)
//   INGEST_BENCH_SECONDS=10 INGEST_BENCH_CONNECTIONS=100 INGEST_BENCH_MODES=microbatch,unbatched node loadtest/scenarios/ingest.js
//
// Each mode gets a fresh ingest process on its own 6-partition topic (deleted afterwards), a
// warm-up run, then the measured run. events/s = 202s per second. Results: loadtest/results/ingest.json.
const { randomBytes } = require('node:crypto');
const { Kafka, logLevel } = require('kafkajs');
const { SCOPES, TOPICS, signPrincipal } = require('@splitstream/shared');
const { createServedTopics } = require('@splitstream/shared/testing');
const { measure, startService, saveResult, runScenario } = require('../lib');

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

const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const log = (line) => process.stderr.write(`${line}\n`);

/** autocannon request with a fresh event id and gateway signature per request (signatures expire). */
function eventRequest(tenant) {
  let n = 0;
  const run = randomBytes(4).toString('hex');
  return {
    method: 'POST',
    path: '/v1/events',
    setupRequest: (request) => {
      n += 1;
      const event = {
        specversion: '1.0',
        id: `bench-${run}-${n}`,
        source: '/bench/ingest',
        type: 'com.example.bench.order.created',
        subject: `order-${n % 1000}`,
        datacontenttype: 'application/json',
        data: { orderId: n, total: (n % 1000) / 10, items: [{ sku: `sku-${n % 97}`, qty: 1 + (n % 3) }] },
      };
      return {
        ...request,
        headers: {
          ...request.headers,
          'content-type': 'application/json',
          ...signPrincipal(SECRET, { tenant, scopes: [SCOPES.write] }),
        },
        body: JSON.stringify(event),
      };
    },
  };
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
    const result = await measure(
      {
        title: `POST /v1/events (${mode})`,
        url: ingest.url,
        connections: CONNECTIONS,
        duration: SECONDS,
        requests: [eventRequest(tenant)],
      },
      { warmupSeconds: WARMUP_SECONDS },
    );
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
    saveResult('ingest', {
      connections: CONNECTIONS,
      seconds: SECONDS,
      runs,
    });
  } finally {
    await admin.disconnect();
  }
}

runScenario(main);
