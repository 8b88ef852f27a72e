/**
 * Rollup counts against the real store: the writer's batch handler with the real event and rollup
 * stores (Kafka's part, the batches, built by hand), under redelivery, crashes between the events
 * and the counts, client retries and replays; compared with a raw aggregation of the stored events.
 */
import {
  type CloudEvent,
  checkpointId,
  ROLLUP_DIMENSIONS,
  type RollupDimension,
  type RollupDoc,
  type RollupLedger,
  readRollups,
  rollupWrites,
  STORE,
  type StoredEvent,
  toStoredEvent,
} from '@splitstream/shared';
import { uniqueName } from '@splitstream/shared/testing';
import type { KafkaMessage } from 'kafkajs';
import type { Db, MongoClient } from 'mongodb';
import { MongoEventStore } from '../../src/adapters/mongo-event-store';
import { MongoRollupStore } from '../../src/adapters/mongo-rollup-store';
import { backfillRollups } from '../../src/backfill-rollups';
import { handleBatch } from '../../src/domain/batch-handler';
import type { RollupStore } from '../../src/domain/ports';
import { RecentIds } from '../../src/domain/recent-ids';
import { BatchAbandonedError } from '../../src/errors';
import { cleanUp, connectStore } from '../e2e/harness';
import { batchPayload, cloudEvent, eventMessage, RECEIVED_AT } from '../support';
import { firstHalfOfDocuments, setup } from '../unit/batch-fakes';

const RANGE = { since: new Date('2026-11-25T22:00:00Z'), until: new Date('2026-11-26T02:00:00Z') };

describe('rollups against the real store', () => {
  let client: MongoClient;
  let db: Db;
  const tenants: string[] = [];
  const topics: string[] = [];

  beforeAll(async () => {
    ({ client, db } = await connectStore());
  });
  afterAll(async () => {
    for (const tenant of tenants) await cleanUp(db, tenant, topics);
    await client.close();
  });

  const fresh = () => {
    const tenant = uniqueName('rollups');
    const topic = uniqueName('rollups-topic');
    tenants.push(tenant);
    topics.push(topic);
    return { tenant, topic };
  };

  const writer = (rollups: RollupStore = new MongoRollupStore(db)) =>
    setup({ store: new MongoEventStore(db), rollups, recent: new RecentIds(10_000), microBatchSize: 64 })
      .deps;

  /** A writer that dies after adding half its counts (its ledger pending): events stored, counts half done. */
  const dyingWriter = () => {
    const real = new MongoRollupStore(db);
    return writer({
      ledger: (key) => real.ledger(key),
      storedPositions: (ids) => real.storedPositions(ids),
      saveLedger: (ledger) => real.saveLedger(ledger),
      applyCells: async (marker, through, cells) => {
        await real.applyCells(marker, through, firstHalfOfDocuments(cells));
        throw new BatchAbandonedError('killed between the events and the counts');
      },
    });
  };

  /** Counts per dimension as "label|value|count", from the rollups and from the stored events, per minute or hour. */
  const fromRollups = async (tenant: string, by: RollupDimension, hourly: boolean) =>
    (await readRollups(db, { tenant, by, ...RANGE, hourly }, 10_000))
      .map((r) => `${r.label}|${r.value}|${r.count}`)
      .sort();
  const fromEvents = async (tenant: string, by: RollupDimension, hourly: boolean) =>
    (
      await db
        .collection<StoredEvent>(STORE.collections.events)
        .aggregate<{ _id: { label: string; value?: string | null }; count: number }>([
          { $match: { tenant } },
          {
            $group: {
              _id: { label: hourly ? '$buckets.hour' : '$buckets.minute', value: `$${by}` },
              count: { $sum: 1 },
            },
          },
        ])
        .toArray()
    )
      .map((g) => `${g._id.label}|${g._id.value ?? null}|${g.count}`)
      .sort();
  const expectRollupsMatchEvents = async (tenant: string) => {
    for (const by of ROLLUP_DIMENSIONS) {
      for (const hourly of [false, true])
        expect(await fromRollups(tenant, by, hourly)).toEqual(await fromEvents(tenant, by, hourly));
    }
  };
  const totalCounted = async (tenant: string) =>
    (await readRollups(db, { tenant, by: 'type', ...RANGE }, 10_000)).reduce((sum, r) => sum + r.count, 0);

  it('counts once under redelivery, a crash between events and counts, client retries and replays', async () => {
    const { tenant, topic } = fresh();
    const at = (offset: number, id: string, overrides: Partial<CloudEvent> = {}) =>
      eventMessage(offset, tenant, cloudEvent(id, { time: '2026-11-26T00:00:30Z', ...overrides }));
    const handle = (messages: KafkaMessage[], deps = writer()) =>
      handleBatch(batchPayload(messages, { topic }).payload, deps);

    await handle([at(0, 'a'), at(1, 'b')]);
    await handle([at(0, 'a'), at(1, 'b')]); // redelivered
    expect(await totalCounted(tenant)).toBe(2);

    expect(await handle([at(2, 'c'), at(3, 'd')], dyingWriter())).toMatchObject({ abandoned: true });
    await handle([at(2, 'c'), at(3, 'd')]); // the same messages, to the next writer
    expect(await totalCounted(tenant)).toBe(4);

    await handle([at(4, 'a'), at(5, 'd'), at(6, 'e'), at(7, 'e')]); // client retries
    expect(await totalCounted(tenant)).toBe(5);

    // Refused (a `$` key in data) and dead-lettered; its replay, stored, counts once; a replay of a stored event never.
    await handle([at(8, 'f', { data: { $bad: 1 } })]);
    expect(await totalCounted(tenant)).toBe(5);
    await handle([at(9, 'f'), at(10, 'a')]);
    expect(await totalCounted(tenant)).toBe(6);
    await expectRollupsMatchEvents(tenant);
  }, 60_000);

  it('loses no counts when partitions add to the same minute at once', async () => {
    const { tenant, topic } = fresh();
    const PARTITIONS = 6;
    const BATCHES = 5;
    const PER_BATCH = 8;
    // Each partition is its own writer (own store client), as two writer instances or concurrent partitions are.
    const clients = await Promise.all(Array.from({ length: PARTITIONS }, () => connectStore()));
    try {
      await Promise.all(
        clients.map(async ({ db: own }, partition) => {
          const deps = setup({
            store: new MongoEventStore(own),
            rollups: new MongoRollupStore(own),
            recent: new RecentIds(10_000),
            microBatchSize: PER_BATCH,
          }).deps;
          for (let b = 0; b < BATCHES; b++) {
            const messages = Array.from({ length: PER_BATCH }, (_, i) => {
              const offset = b * PER_BATCH + i;
              return eventMessage(
                offset,
                tenant,
                cloudEvent(`p${partition}-${offset}`, { time: '2026-11-26T00:00:30Z' }),
              );
            });
            await handleBatch(batchPayload(messages, { topic, partition }).payload, deps);
          }
        }),
      );
    } finally {
      await Promise.all(clients.map(({ client: own }) => own.close()));
    }
    expect(await totalCounted(tenant)).toBe(PARTITIONS * BATCHES * PER_BATCH);
    await expectRollupsMatchEvents(tenant);
  }, 60_000);

  it('matches a raw aggregation of the stored events after random deliveries, crashes and retries', async () => {
    const { tenant, topic } = fresh();
    let seed = Math.floor(Math.random() * 2 ** 31) || 1;
    process.stdout.write(`rollups random test seed ${seed}\n`);
    const random = (n: number) => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    const span = RANGE.until.getTime() - RANGE.since.getTime();
    for (const partition of [0, 1]) {
      // Offsets from 700 so the stream crosses a block boundary (1,000).
      const messages: KafkaMessage[] = [];
      const ids: string[] = [];
      for (let offset = 700; offset < 1_300; offset += 1) {
        const retry = ids.length > 0 && random(10) === 0;
        const id = retry ? (ids[random(ids.length)] as string) : `p${partition}-${offset}`;
        if (!retry) ids.push(id);
        messages.push(
          eventMessage(
            offset,
            tenant,
            cloudEvent(id, {
              type: `type-${random(4)}`,
              source: `/source/${random(3)}`,
              ...(random(4) > 0 ? { subject: `subject-${random(5)}` } : {}),
              time: new Date(RANGE.since.getTime() + random(span)).toISOString(),
            }),
          ),
        );
      }
      for (let start = 0; start < messages.length; ) {
        const end = Math.min(messages.length, start + 1 + random(150));
        const batch = messages.slice(start, end);
        const roll = random(10);
        if (roll === 0) {
          await handleBatch(batchPayload(batch, { topic, partition }).payload, dyingWriter());
          continue; // redelivered from `start`
        }
        await handleBatch(batchPayload(batch, { topic, partition }).payload, writer());
        if (roll === 1) {
          // Redelivery of a window already done, to a writer with an empty cache.
          const from = random(end);
          await handleBatch(batchPayload(messages.slice(from, end), { topic, partition }).payload, writer());
        }
        start = end;
      }
    }
    await expectRollupsMatchEvents(tenant);
  }, 180_000);

  it('backfills stored events through their checkpoints, the same on a second run, and the writer counts the rest', async () => {
    const { tenant, topic } = fresh();
    const events = db.collection<StoredEvent>(STORE.collections.events);
    const stored = (partition: number, offset: number) =>
      toStoredEvent({
        tenant,
        event: {
          ...cloudEvent(`b${partition}-${offset}`, { type: `type-${offset % 3}` }),
          time: '2026-11-26T01:00:00Z',
        },
        receivedAt: RECEIVED_AT,
        topic,
        partition,
        offset: String(offset),
      });
    const p0 = Array.from({ length: 1_500 }, (_, offset) => stored(0, offset));
    const p1 = Array.from({ length: 300 }, (_, offset) => stored(1, offset));
    for (let i = 0; i < p0.length; i += 500) await events.insertMany(p0.slice(i, i + 500));
    await events.insertMany(p1);
    // The last 100 of partition 0 are stored but not checkpointed: the writer gets them again.
    const store = new MongoEventStore(db);
    for (const [partition, offset] of [
      [0, '1399'],
      [1, '299'],
    ] as const) {
      await store.saveCheckpoint({
        _id: checkpointId(topic, partition),
        topic,
        partition,
        offset,
        updatedAt: new Date(),
      });
    }

    const toMessage = (doc: StoredEvent) => eventMessage(Number(doc.offset), tenant, doc.event as CloudEvent);
    // The upgraded writer has counted the end of partition 1 already (redelivered to it): the backfill adds the rest.
    await handleBatch(batchPayload(p1.slice(250).map(toMessage), { topic, partition: 1 }).payload, writer());
    expect(await totalCounted(tenant)).toBe(50);

    expect(await backfillRollups(db, { topics: [topic] })).toEqual({ blocks: 3, events: 1_650 });
    expect(await totalCounted(tenant)).toBe(1_700);
    // A second run adds nothing: the blocks it wrote have ledgers now, and the documents refuse
    // partition 1's first 250 again.
    expect(await backfillRollups(db, { topics: [topic] })).toEqual({ blocks: 1, events: 250 });
    expect(await totalCounted(tenant)).toBe(1_700);

    const redelivered = p0.slice(1_300).map(toMessage);
    await handleBatch(batchPayload(redelivered, { topic }).payload, writer());
    expect(await totalCounted(tenant)).toBe(1_800);
    await expectRollupsMatchEvents(tenant);
  }, 120_000);
});
