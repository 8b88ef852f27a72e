import type { AnyBulkWriteOperation, Db } from 'mongodb';
import { STORE } from './store';
import { type StoredEvent, timeBuckets } from './stored-event';

/**
 * Event counts kept by the writer so stats never read raw events. Exactly once, without
 * transactions (the local store has none): each Kafka partition is cut into blocks of offsets; a
 * block's ledger says up to which offset it has counted and holds its cumulative counts, and a
 * rollup cell holds, per block, that block's count, written absolutely and only ever raised
 * ($max). Writing a block again (redelivery, a retry, a crash before its ledger moved) changes
 * nothing, and an event counts only in the block of the message whose copy the store holds.
 */
export const ROLLUP_BLOCK_OFFSETS = 1_000;
export const ROLLUP_DIMENSIONS = Object.freeze(['type', 'source', 'subject'] as const);
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

/** One (tenant, dimension, value, UTC day) (collection `rollups`). */
export interface RollupDoc {
  /** rollupId(tenant, by, day, value) */
  _id: string;
  /** rollupSlice(tenant, by, day): the one equality a stats read filters on (the local store pushes equality down). */
  slice: string;
  tenant: string;
  by: RollupDimension;
  /** `2026-11-26` */
  day: string;
  /** null for events without the attribute (only `subject` is optional). */
  value: string | null;
  /** Minute label (`2026-11-26T10:15Z`) → block key → that block's count of the minute. */
  minutes: Record<string, Record<string, number>>;
}

/** What one block of one partition has counted (collection `rollupledger`). */
export interface RollupLedger {
  /** blockKey(topic, partition, block) */
  _id: string;
  topic: string;
  partition: number;
  block: number;
  /** Every offset of the block up to this one is counted, or was found not to count. */
  through: number;
  /** The block's cumulative count per cell (a rollup document's minute). */
  cells: Array<{ rollup: string; minute: string; count: number }>;
}

/** The fields of a stored event that rollups count by. */
export type CountedEvent = Pick<StoredEvent, 'tenant' | 'type' | 'source' | 'subject' | 'buckets'>;

export const rollupId = (tenant: string, by: RollupDimension, day: string, value: string | null) =>
  JSON.stringify([tenant, by, day, value]);
export const rollupSlice = (tenant: string, by: RollupDimension, day: string) =>
  JSON.stringify([tenant, by, day]);

export function blockOf(offset: string | number): number {
  return Math.floor(Number(offset) / ROLLUP_BLOCK_OFFSETS);
}

/** A field name (no '.', which Kafka allows in topic names and field paths do not; '~' it refuses). */
export function blockKey(topic: string, partition: number, block: number): string {
  return `${topic.replaceAll('.', '%2E')}~${partition}~${block}`;
}

/** Cell counts keyed by `JSON [rollup id, minute]`. */
export type CellCounts = Map<string, number>;
const cellKey = (rollup: string, minute: string) => JSON.stringify([rollup, minute]);

/** Adds one event to `cells` under each dimension; returns the keys it touched. */
export function countEvent(cells: CellCounts, event: CountedEvent): string[] {
  const day = event.buckets.day;
  return ROLLUP_DIMENSIONS.map((by) => {
    const key = cellKey(rollupId(event.tenant, by, day, event[by] ?? null), event.buckets.minute);
    cells.set(key, (cells.get(key) ?? 0) + 1);
    return key;
  });
}

export function ledgerCells(ledger: RollupLedger | null | undefined): CellCounts {
  return new Map((ledger?.cells ?? []).map((c) => [cellKey(c.rollup, c.minute), c.count]));
}

export function cellList(cells: CellCounts): RollupLedger['cells'] {
  return [...cells].map(([key, count]) => {
    const [rollup, minute] = JSON.parse(key) as [string, string];
    return { rollup, minute, count };
  });
}

/**
 * The upserts that put `block`'s counts of `cells` into the rollup documents: $max for the writer
 * (a late or repeated write of a smaller count never lowers a cell), $set for the backfill, which
 * recomputes whole blocks from the stored events.
 */
export function rollupWrites(
  block: string,
  cells: CellCounts,
  mode: '$max' | '$set' = '$max',
): AnyBulkWriteOperation<RollupDoc>[] {
  const byDoc = new Map<string, Record<string, number>>();
  for (const [key, count] of cells) {
    const [rollup, minute] = JSON.parse(key) as [string, string];
    const fields = byDoc.get(rollup) ?? {};
    fields[`minutes.${minute}.${block}`] = count;
    byDoc.set(rollup, fields);
  }
  return [...byDoc].map(([_id, fields]) => {
    const [tenant, by, day, value] = JSON.parse(_id) as [string, RollupDimension, string, string | null];
    return {
      updateOne: {
        filter: { _id },
        update: {
          $setOnInsert: { slice: rollupSlice(tenant, by, day), tenant, by, day, value },
          [mode]: fields,
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
      for (const [minute, blocks] of Object.entries(doc.minutes ?? {})) {
        // Labels of one format compare as times.
        if (minute < first || minute >= end) continue;
        const count = Object.values(blocks).reduce((sum, n) => sum + n, 0);
        if (count > 0) rows.push({ minute, value: doc.value ?? null, count });
      }
    }
  }
  return rows;
}
