// Writer throughput: sustained events/s of the writer draining a pre-produced topic, beside the
// ceiling, a raw insertMany loop into the same store with the same batch size, in one run.
//
//   node loadtest/scenarios/writer.js          (after `npm run build`; infrastructure up)
//   WRITER_BENCH_EVENTS=50000 WRITER_BENCH_BATCH=1000 WRITER_BENCH_PARTITIONS=6 node loadtest/scenarios/writer.js
//
// The writer runs in its own process (services/writer/dist/server.js) on its own topic, group and
// tenant. Its rate is read from its checkpoints (offsets stored per partition over time), so the
// start-up and group join are not counted. Results: loadtest/results/writer.json.
const { randomBytes } = require('node:crypto');
const { Kafka, logLevel } = require('kafkajs');
const { MongoClient } = require('mongodb');
const { STORE, toKafkaMessage, toStoredEvent } = require('@splitstream/shared');
const { createServedTopics } = require('@splitstream/shared/testing');
const { BENCH_PARTITIONS, startService, saveResult, runScenario } = require('../lib');

const EVENTS = Number(process.env.WRITER_BENCH_EVENTS ?? 50_000);
const BATCH = Number(process.env.WRITER_BENCH_BATCH ?? 1_000); // the writer's default micro-batch
const PARTITIONS = Number(process.env.WRITER_BENCH_PARTITIONS ?? BENCH_PARTITIONS);
const CONCURRENCY = Number(process.env.WRITER_BENCH_CONCURRENCY ?? 3); // the writer's default
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const WRITE_URI =
  process.env.MONGO_WRITE_URI ?? 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false';
const POLL_MS = 100;

const unique = (prefix) => `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const log = (line) => process.stderr.write(`${line}\n`);

function cloudEvent(i) {
  return {
    specversion: '1.0',
    id: `bench-${i}`,
    source: '/bench/writer',
    type: 'com.example.bench',
    subject: `subject-${i % 500}`,
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    data: { orderId: i, total: (i % 1000) / 10, items: [{ sku: `sku-${i % 97}`, qty: 1 + (i % 3) }] },
  };
}

/** The ceiling: `concurrency` loops of insertMany (unordered, batch size BATCH) straight into the store. */
async function rawInsertMany(db, tenant, concurrency) {
  const events = db.collection(STORE.collections.events);
  const docs = Array.from({ length: EVENTS }, (_, i) =>
    toStoredEvent({
      tenant,
      event: cloudEvent(i),
      receivedAt: new Date(),
      topic: 'bench-raw',
      partition: i % PARTITIONS,
      offset: String(i),
    }),
  );
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < docs.length) {
        const batch = docs.slice(next, next + BATCH);
        next += BATCH;
        await events.insertMany(batch, { ordered: false });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { concurrency, seconds, eventsPerSecond: EVENTS / seconds };
}

/** Messages the writer has checkpointed for `topic` (sum over partitions of last offset + 1). */
async function checkpointed(db, topic) {
  const checkpoints = await db.collection(STORE.collections.checkpoints).find({ topic }).toArray();
  return checkpoints.reduce((sum, c) => sum + Number(c.offset) + 1, 0);
}

async function main() {
  const kafka = new Kafka({ clientId: 'bench-writer', brokers: BROKERS, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const client = await new MongoClient(WRITE_URI).connect();
  const db = client.db(STORE.database);
  await Promise.all([admin.connect(), producer.connect()]);

  const topic = unique('bench-writer');
  const deadLetters = `${topic}-dlt`;
  const writerTenant = unique('bench-writer');
  const rawTenant = unique('bench-raw');
  let writer;
  try {
    await createServedTopics(admin, [
      { topic, numPartitions: PARTITIONS },
      { topic: deadLetters, numPartitions: 1 },
    ]);
    log(`producing ${EVENTS} events to ${topic} (${PARTITIONS} partitions)`);
    for (let start = 0; start < EVENTS; start += 1_000) {
      const messages = [];
      for (let i = start; i < Math.min(EVENTS, start + 1_000); i++) {
        messages.push(toKafkaMessage(writerTenant, cloudEvent(i), new Date()));
      }
      await producer.send({ topic, acks: -1, messages });
    }

    log(`raw insertMany loop: ${EVENTS} documents, batches of ${BATCH}`);
    const rawSequential = await rawInsertMany(db, `${rawTenant}-1`, 1);
    const rawConcurrent = await rawInsertMany(db, `${rawTenant}-${CONCURRENCY}`, CONCURRENCY);

    log('writer draining the topic');
    const spawnedAt = performance.now();
    writer = await startService('writer', {
      KAFKA_BROKERS: BROKERS.join(','),
      MONGO_WRITE_URI: WRITE_URI,
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetters,
      KAFKA_GROUP_ID: unique('bench-writer'),
      WRITER_MICRO_BATCH_SIZE: String(BATCH),
      WRITER_PARTITIONS_CONCURRENCY: String(CONCURRENCY),
    });
    let first;
    let done;
    for (;;) {
      const progress = await checkpointed(db, topic);
      const now = performance.now();
      if (progress > 0 && !first) first = { at: now, progress };
      if (progress >= EVENTS) {
        done = { at: now, progress };
        break;
      }
      if (now - spawnedAt > 600_000)
        throw new Error(`writer stored only ${progress} of ${EVENTS} in 10 minutes`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const stored = await db.collection(STORE.collections.events).countDocuments({ tenant: writerTenant });
    if (stored !== EVENTS) throw new Error(`writer stored ${stored} events, expected ${EVENTS}`);
    const sustainedSeconds = (done.at - first.at) / 1000;
    const writerResult = {
      microBatch: BATCH,
      partitionsConcurrently: CONCURRENCY,
      // From the first checkpoint to the last: the drain itself, without start-up and group join.
      eventsPerSecond: (done.progress - first.progress) / sustainedSeconds,
      sustainedSeconds,
      // From spawning the process: start-up, group join and the drain.
      wallSeconds: (done.at - spawnedAt) / 1000,
      stored,
    };

    saveResult('writer', {
      events: EVENTS,
      batchSize: BATCH,
      partitions: PARTITIONS,
      writer: writerResult,
      rawInsertMany: { sequential: rawSequential, concurrent: rawConcurrent },
      writerVsCeiling: {
        sequential: writerResult.eventsPerSecond / rawSequential.eventsPerSecond,
        concurrent: writerResult.eventsPerSecond / rawConcurrent.eventsPerSecond,
      },
    });
  } finally {
    if (writer) await writer.stop();
    const events = db.collection(STORE.collections.events);
    for (const tenant of [writerTenant, `${rawTenant}-1`, `${rawTenant}-${CONCURRENCY}`])
      await events.deleteMany({ tenant });
    await db.collection(STORE.collections.checkpoints).deleteMany({ topic });
    await admin.deleteTopics({ topics: [topic, deadLetters] }).catch(() => {});
    await Promise.all([admin.disconnect(), producer.disconnect(), client.close()]);
  }
}

runScenario(main);
