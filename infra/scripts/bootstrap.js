// Creates the Kafka topics and the store's database, collections and indexes (idempotent).
// Prints "changed" on stdout when the store layout changed, so infra.sh restarts the replica endpoint.
const { Kafka, logLevel } = require('kafkajs');
const { MongoClient } = require('mongodb');
const { TOPICS, STORE, ensureStoreLayout } = require('@splitstream/shared');
// Creates topics and waits until the broker serves them (kafkajs's waitForLeaders can throw instead).
const { createServedTopics } = require('@splitstream/shared/testing');

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const writeUri = process.env.MONGO_WRITE_URI ?? 'mongodb://127.0.0.1:27017/?directConnection=true';

async function withRetries(what, attempts, fn) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts) throw new Error(`${what} failed after ${attempts} attempts`, { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function bootstrapTopics() {
  const admin = new Kafka({ clientId: 'splitstream-bootstrap', brokers, logLevel: logLevel.NOTHING }).admin();
  await withRetries('connecting to Kafka', 120, () => admin.connect());
  try {
    const existing = new Set(await admin.listTopics());
    const missing = Object.values(TOPICS).filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      await createServedTopics(
        admin,
        missing.map((t) => ({ topic: t.name, numPartitions: t.partitions })),
      );
      console.error(`created topics: ${missing.map((t) => t.name).join(', ')}`);
    }
  } finally {
    await admin.disconnect();
  }
}

async function bootstrapStore() {
  const client = new MongoClient(writeUri, { serverSelectionTimeoutMS: 30_000 });
  try {
    await withRetries('connecting to the store', 60, () => client.db('admin').command({ ping: 1 }));
    return await ensureStoreLayout(client.db(STORE.database));
  } finally {
    await client.close();
  }
}

Promise.all([bootstrapTopics(), bootstrapStore()]).then(
  ([, storeChanged]) => {
    if (storeChanged) process.stdout.write('changed\n');
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
