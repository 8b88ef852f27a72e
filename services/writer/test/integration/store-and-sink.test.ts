import {
  checkpointId,
  DEAD_LETTER_HEADERS,
  type DeadLetterRecord,
  STORE,
  toStoredEvent,
} from '@splitstream/shared';
import { createTestTopic, TcpProxy, uniqueName, waitFor } from '@splitstream/shared/testing';
import type { Admin, KafkaMessage, Producer } from 'kafkajs';
import { type Db, MongoClient } from 'mongodb';
import { KafkaDeadLetterSink } from '../../src/adapters/kafka-dead-letter-sink';
import { MongoEventStore } from '../../src/adapters/mongo-event-store';
import type { DeadLetter } from '../../src/domain/decode';
import { DeadLetterUnavailableError, StoreUnavailableError } from '../../src/errors';
import { cleanUp, connectStore, event, infra, kafka } from '../e2e/harness';
import { rawMessage } from '../support';

describe('MongoEventStore and KafkaDeadLetterSink against the real store and broker', () => {
  const tenant = uniqueName('writer-int');
  const topic = uniqueName('writer-int-topic');
  let client: MongoClient;
  let db: Db;
  let admin: Admin;
  let producer: Producer;
  let deadLetterTopic: string;

  beforeAll(async () => {
    ({ client, db } = await connectStore());
    admin = kafka.admin();
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([admin.connect(), producer.connect()]);
    deadLetterTopic = await createTestTopic(admin, 'writer-int-dlt', 1);
  });
  afterAll(async () => {
    await cleanUp(db, tenant, [topic]);
    await admin.deleteTopics({ topics: [deadLetterTopic] });
    await Promise.all([admin.disconnect(), producer.disconnect(), client.close()]);
  });

  const doc = (id: string, offset: number, data: unknown = { id }) =>
    toStoredEvent({
      tenant,
      event: { ...event(id, '/int', { data }), time: '2026-11-26T10:00:00Z' },
      receivedAt: new Date(),
      topic,
      partition: 0,
      offset: String(offset),
    });

  it('inserts in one call, counts duplicates and reports documents the store refuses', async () => {
    const store = new MongoEventStore(db);
    expect(await store.insertEvents([doc('a', 0), doc('b', 1)])).toEqual({
      inserted: 2,
      duplicateIndexes: [],
      rejected: [],
    });

    const outcome = await store.insertEvents([
      doc('a', 2),
      doc('c', 3),
      doc('d', 4, { $where: 1 }),
      doc('b', 5),
    ]);

    expect(outcome.inserted).toBe(1);
    expect(outcome.duplicateIndexes).toEqual([0, 3]);
    expect(outcome.rejected).toEqual([{ index: 2, code: 2, message: expect.stringContaining('$where') }]);
    const stored = await db.collection(STORE.collections.events).find({ tenant }).sort({ id: 1 }).toArray();
    expect(stored.map((d) => [d.id, d.offset])).toEqual([
      ['a', '0'],
      ['b', '1'],
      ['c', '3'],
    ]);
  });

  it('upserts the per-partition checkpoint', async () => {
    const store = new MongoEventStore(db);
    const checkpoint = { _id: `${topic}/0`, topic, partition: 0, offset: '41', updatedAt: new Date() };
    await store.saveCheckpoint(checkpoint);
    await store.saveCheckpoint({ ...checkpoint, offset: '42' });
    expect(await db.collection(STORE.collections.checkpoints).find({ topic }).toArray()).toEqual([
      { ...checkpoint, offset: '42', updatedAt: expect.any(Date) },
    ]);
  });

  it('marks partitions applied as of a time, creating a checkpoint below the first offset where none is', async () => {
    const store = new MongoEventStore(db);
    const heartbeatTopic = `${topic}-heartbeat`;
    const updatedAt = new Date('2026-12-02T09:00:00Z');
    await store.saveCheckpoint({
      _id: `${heartbeatTopic}/0`,
      topic: heartbeatTopic,
      partition: 0,
      offset: '7',
      updatedAt,
    });
    const asOf = new Date('2026-12-02T10:00:00Z');
    await store.markApplied(heartbeatTopic, [0, 1], asOf);

    expect(await store.storedOffsets(heartbeatTopic)).toEqual(
      new Map([
        [0, '7'],
        [1, '-1'],
      ]),
    );
    const docs = await db
      .collection(STORE.collections.checkpoints)
      .find({ topic: heartbeatTopic })
      .sort({ partition: 1 })
      .toArray();
    expect(docs).toEqual([
      {
        _id: `${heartbeatTopic}/0`,
        topic: heartbeatTopic,
        partition: 0,
        offset: '7',
        updatedAt,
        appliedAsOf: asOf,
      },
      {
        _id: `${heartbeatTopic}/1`,
        topic: heartbeatTopic,
        partition: 1,
        offset: '-1',
        updatedAt: asOf,
        appliedAsOf: asOf,
      },
    ]);
    await db.collection(STORE.collections.checkpoints).deleteMany({ topic: heartbeatTopic });
  });

  it('never loses a checkpoint to a heartbeat mark written beside it', async () => {
    const store = new MongoEventStore(db);
    const raceTopic = `${topic}-race`;
    const regressed: string[] = [];
    await store.saveCheckpoint({
      _id: checkpointId(raceTopic, 0),
      topic: raceTopic,
      partition: 0,
      offset: '-1',
      updatedAt: new Date(),
    });
    for (let offset = 0; offset < 100; offset++) {
      await Promise.all([
        store.saveCheckpoint({
          _id: checkpointId(raceTopic, 0),
          topic: raceTopic,
          partition: 0,
          offset: String(offset),
          updatedAt: new Date(),
        }),
        store.markApplied(raceTopic, [0], new Date()),
      ]);
      const stored = (await store.storedOffsets(raceTopic)).get(0);
      if (stored !== String(offset)) regressed.push(`${offset} → ${stored}`);
    }
    await db.collection(STORE.collections.checkpoints).deleteMany({ topic: raceTopic });
    expect(regressed).toEqual([]);
  });

  it('raises a retriable error when the store is unreachable', async () => {
    const proxy = await new TcpProxy('127.0.0.1', Number(new URL(infra.writeUri).port)).start();
    const proxied = new MongoClient(`mongodb://127.0.0.1:${proxy.port}/?directConnection=true`, {
      serverSelectionTimeoutMS: 500,
    });
    try {
      await proxied.db('admin').command({ ping: 1 });
      await proxy.cut();
      const store = new MongoEventStore(proxied.db(STORE.database));
      const failure = await store.insertEvents([doc('never', 9)]).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(StoreUnavailableError);
      expect((failure as StoreUnavailableError).isRetriable).toBe(true);
      await expect(
        store.saveCheckpoint({ _id: 'x', topic, partition: 9, offset: '1', updatedAt: new Date() }),
      ).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await proxied.close();
      await proxy.stop();
    }
  });

  it('records a dead letter once and sends it to the topic with the original key, headers and value', async () => {
    const sink = new KafkaDeadLetterSink(
      producer,
      deadLetterTopic,
      db,
      () => new Date('2026-11-26T12:00:00Z'),
    );
    const message: KafkaMessage = rawMessage(17, {
      key: `${tenant}/k`,
      value: '{"broken": ',
      headers: { 'splitstream-tenant': Buffer.from(tenant), 'x-trace': Buffer.from('t-1') },
    });
    const letter: DeadLetter = {
      topic,
      partition: 2,
      message,
      reason: 'undecodable: value is not JSON',
      tenant,
    };

    await sink.send([letter]);
    await sink.send([letter]); // a retry after a failed send must not record it twice

    const records = await db
      .collection<DeadLetterRecord>(STORE.collections.deadLetters)
      .find({ tenant })
      .toArray();
    expect(records).toEqual([
      {
        _id: `${topic}/2/17`,
        tenant,
        reason: 'undecodable: value is not JSON',
        deadLetteredAt: new Date('2026-11-26T12:00:00Z'),
        topic,
        partition: 2,
        offset: '17',
        key: `${tenant}/k`,
        headers: { 'splitstream-tenant': tenant, 'x-trace': 't-1' },
        value: '{"broken": ',
      },
    ]);

    const received: KafkaMessage[] = [];
    const consumer = kafka.consumer({ groupId: uniqueName('writer-int-dlt') });
    await consumer.connect();
    await consumer.subscribe({ topic: deadLetterTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message: m }) => {
        received.push(m);
      },
    });
    try {
      await waitFor(() => received.length >= 2, { what: 'dead letters on the topic' });
    } finally {
      await consumer.disconnect();
    }
    const [first] = received;
    expect(first?.key?.toString()).toBe(`${tenant}/k`);
    expect(first?.value?.toString()).toBe('{"broken": ');
    const headers = Object.fromEntries(Object.entries(first?.headers ?? {}).map(([k, v]) => [k, String(v)]));
    expect(headers).toEqual({
      'splitstream-tenant': tenant,
      'x-trace': 't-1',
      [DEAD_LETTER_HEADERS.reason]: 'undecodable: value is not JSON',
      [DEAD_LETTER_HEADERS.topic]: topic,
      [DEAD_LETTER_HEADERS.partition]: '2',
      [DEAD_LETTER_HEADERS.offset]: '17',
    });
  });

  it('raises a retriable error when the dead-letter topic does not acknowledge', async () => {
    const failing = { send: async () => Promise.reject(new Error('broker away')) };
    const sink = new KafkaDeadLetterSink(failing, deadLetterTopic, db);
    const letter: DeadLetter = {
      topic,
      partition: 0,
      message: rawMessage(99, { value: 'x' }),
      reason: 'r',
      tenant,
    };
    const failure = await sink.send([letter]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeadLetterUnavailableError);
    expect((failure as DeadLetterUnavailableError).isRetriable).toBe(true);
  });
});
