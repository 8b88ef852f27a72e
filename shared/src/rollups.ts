import type { AnyBulkWriteOperation, Db } from 'mongodb';
import { STORE } from './store';
import { type StoredEvent, timeBuckets } from './stored-event';

/**
 * Event counts kept by the writer so stats never read raw events, exactly once without
 * transactions (the local store has none). Each Kafka partition is cut into blocks of offsets; a
 * block's ledger says up to which offset it has counted. A micro-batch's counts for a block are
 * first written into the ledger as pending, then added to the rollup documents, each addition
 * conditional on the document not holding that (block, through) already, then the ledger moves.
 * A delivery that stops anywhere leaves the ledger pending: the next one adds the same counts
 * again, which the documents that have them refuse, and an event counts only in the block of the
 * message whose copy the store holds.
 */
export const ROLLUP_BLOCK_OFFSETS = 1_000;
export const ROLLUP_DIMENSIONS = Object.freeze(['type', 'source', 'subject'] as const);
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

/**
 * One (tenant, dimension, UTC hour) with every value (collection `rollups`): a micro-batch adds to a
 * few such documents (one update each) whatever the number of values, and a day is 24 of them.
 */
export interface RollupDoc {
  /** rollupId(tenant, by, hour) */
  _id: string;
  /** rollupSlice(tenant, by, day): the one equality a stats read filters on (the local store pushes equality down). */
  slice: string;
  tenant: string;
  by: RollupDimension;
  /** `2026-11-26T10:00Z` */
  hour: string;
  /** valueKey(value) → minute label (`2026-11-26T10:15Z`) → count. */
  counts: Record<string, Record<string, number>>;
  /** Block key → the `through` of the last counts added from that block. */
  applied: Record<string, number>;
}

/** What one block of one partition has counted (collection `rollupledger`). */
export interface RollupLedger {
  /** blockKey(topic, partition, block) */
  _id: string;
  topic: string;
  partition: number;
  block: number;
  /** First offset the writer counted in this block: earlier ones are the backfill's. */
  from: number;
  /** Every offset of the block up to this one is counted, or was found not to count. */
  through: number;
  /** Counts being added up to `pending.through`; present until all rollup documents have them. */
  pending?: { through: number; cells: Array<{ rollup: string; field: string; count: number }> };
}

/** The fields of a stored event that rollups count by. */
export type CountedEvent = Pick<StoredEvent, 'tenant' | 'type' | 'source' | 'subject' | 'buckets'>;

export const rollupId = (tenant: string, by: RollupDimension, hour: string) =>
  JSON.stringify([tenant, by, hour]);
export const rollupSlice = (tenant: string, by: RollupDimension, day: string) =>
  JSON.stringify([tenant, by, day]);

export function blockOf(offset: string | number): number {
  return Math.floor(Number(offset) / ROLLUP_BLOCK_OFFSETS);
}

/** A field name (no '.', which Kafka allows in topic names and field paths do not; '~' it refuses). */
export function blockKey(topic: string, partition: number, block: number): string {
  return `${topic.replaceAll('.', '%2E')}~${partition}~${block}`;
}

/**
 * A value as a field name: never empty, no '.', no leading '$' (which field paths refuse), and
 * reversible ('%' escapes). null, for an event without the attribute, is `n`.
 */
export function valueKey(value: string | null): string {
  if (value === null) return 'n';
  return `v${value.replaceAll('%', '%25').replaceAll('.', '%2E').replaceAll('$', '%24')}`;
}

export function valueOfKey(key: string): string | null {
  if (key === 'n') return null;
  return key.slice(1).replaceAll('%24', '$').replaceAll('%2E', '.').replaceAll('%25', '%');
}

/** Cell counts keyed by `JSON [rollup id, field]`, the field `counts.<value key>.<minute>`. */
export type CellCounts = Map<string, number>;
const cellKey = (rollup: string, field: string) => JSON.stringify([rollup, field]);

/** Adds one event to `cells` under each dimension. */
export function countEvent(cells: CellCounts, event: CountedEvent): void {
  for (const by of ROLLUP_DIMENSIONS) {
    const field = `counts.${valueKey(event[by] ?? null)}.${event.buckets.minute}`;
    const key = cellKey(rollupId(event.tenant, by, event.buckets.hour), field);
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
}

export function cellsOf(list: NonNullable<RollupLedger['pending']>['cells']): CellCounts {
  return new Map(list.map((c) => [cellKey(c.rollup, c.field), c.count]));
}

export function cellList(cells: CellCounts): NonNullable<RollupLedger['pending']>['cells'] {
  return [...cells].map(([key, count]) => {
    const [rollup, field] = JSON.parse(key) as [string, string];
    return { rollup, field, count };
  });
}

/**
 * The conditional upserts that add `cells` to the rollup documents as the counts of `marker` (a
 * block) up to `through`: a document that already has them (applied[marker] ≥ through) does not
 * match, and its upsert collides on _id: that duplicate-key answer means "already added".
 */
export function rollupWrites(
  marker: string,
  through: number,
  cells: CellCounts,
): AnyBulkWriteOperation<RollupDoc>[] {
  const byDoc = new Map<string, Record<string, number>>();
  for (const [key, count] of cells) {
    const [rollup, field] = JSON.parse(key) as [string, string];
    const fields = byDoc.get(rollup) ?? {};
    fields[field] = count;
    byDoc.set(rollup, fields);
  }
  return [...byDoc].map(([_id, counts]) => {
    const [tenant, by, hour] = JSON.parse(_id) as [string, RollupDimension, string];
    return {
      updateOne: {
        filter: { _id, [`applied.${marker}`]: { $not: { $gte: through } } },
        update: {
          $setOnInsert: { slice: rollupSlice(tenant, by, hour.slice(0, 10)), tenant, by, hour },
          $inc: counts,
          $set: { [`applied.${marker}`]: through },
        },
        upsert: true,
      },
    };
  });
}

/** A stored event with the position of the message that stored it. */
export type PositionedEvent = CountedEvent & Pick<StoredEvent, 'topic' | 'partition' | 'offset'>;

/** What the stored events give each block: the cells of the events its messages stored. */
export interface BlockCount {
  topic: string;
  partition: number;
  block: number;
  cells: CellCounts;
}

/** Counts stored events by the block of the message that stored each (for backfills and test fixtures). */
export async function countByBlock(events: AsyncIterable<PositionedEvent> | Iterable<PositionedEvent>) {
  const blocks = new Map<string, BlockCount>();
  for await (const event of events) {
    const block = blockOf(event.offset);
    const key = blockKey(event.topic, event.partition, block);
    let count = blocks.get(key);
    if (!count) {
      count = { topic: event.topic, partition: event.partition, block, cells: new Map() };
      blocks.set(key, count);
    }
    countEvent(count.cells, event);
  }
  return blocks;
}

export interface RollupRead {
  tenant: string;
  by: RollupDimension;
  /** Minute-aligned, inclusive. */
  since: Date;
  /** Minute-aligned, exclusive. */
  until: Date;
}

/** UTC days touched by [since, until). */
export function daysOf(since: Date, until: Date): string[] {
  const days: string[] = [];
  if (until <= since) return days;
  for (
    let t = Date.UTC(since.getUTCFullYear(), since.getUTCMonth(), since.getUTCDate());
    t < until.getTime();
    t += 86_400_000
  ) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** Days read at once: one query each, so a year by day neither runs serially nor floods the store. */
const DAYS_IN_FLIGHT = 8;

/** Counts per (minute label, value) over the range, from the rollups: one query per UTC day. */
export async function readRollups(
  db: Db,
  read: RollupRead,
  maxTimeMS: number,
): Promise<Array<{ minute: string; value: string | null; count: number }>> {
  const rollups = db.collection<RollupDoc>(STORE.collections.rollups);
  const first = timeBuckets(read.since).minute;
  const end = timeBuckets(read.until).minute;
  const days = daysOf(read.since, read.until);
  const rows: Array<{ minute: string; value: string | null; count: number }> = [];
  for (let i = 0; i < days.length; i += DAYS_IN_FLIGHT) {
    const docs = await Promise.all(
      days
        .slice(i, i + DAYS_IN_FLIGHT)
        .map((day) =>
          rollups.find({ slice: rollupSlice(read.tenant, read.by, day) }, { maxTimeMS }).toArray(),
        ),
    );
    for (const doc of docs.flat()) {
      // Hours wholly outside the range (its first and last day) are skipped unread.
      if (doc.hour < first.slice(0, 14) || doc.hour >= end) continue;
      for (const [key, minutes] of Object.entries(doc.counts ?? {})) {
        const value = valueOfKey(key);
        for (const [minute, count] of Object.entries(minutes)) {
          // Labels of one format compare as times.
          if (minute >= first && minute < end && count > 0) rows.push({ minute, value, count });
        }
      }
    }
  }
  return rows;
}
