import type { AnyBulkWriteOperation, Db } from 'mongodb';
import { STORE } from './store';
import { type StoredEvent, timeBuckets } from './stored-event';

/**
 * Event counts kept by the writer so stats never read raw events, exactly once without
 * transactions (the local store has none). Each Kafka partition is cut into blocks of offsets; a
 * block's ledger says up to which offset it has counted. A micro-batch's counts for a block are
 * first written into the ledger as pending, then added to the rollup documents, each addition
 * conditional on the document not holding the partition's counts up to that offset already, then
 * the ledger moves.
 * A delivery that stops anywhere leaves the ledger pending: the next one adds the same counts
 * again, which the documents that have them refuse, and an event counts only in the block of the
 * message whose copy the store holds.
 */
export const ROLLUP_BLOCK_OFFSETS = 1_000;
export const ROLLUP_DIMENSIONS = Object.freeze(['type', 'source', 'subject'] as const);
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

/**
 * The counts of one (tenant, dimension) with every value (collection `rollups`), at two grains: per
 * minute, one document an hour; per hour, one document a day, so an hourly or daily answer over a
 * day reads a few small documents. A micro-batch adds to a few documents, whatever the number of values.
 * Each partition keeps its own documents and reads add them up: the local store applies an update as
 * read, change, write back the whole document, so two partitions updating one document at once lose
 * one's counts (seen: 3 × 100 concurrent $inc on one document left 220).
 */
export type RollupGrain = 'minute' | 'hour';

export interface RollupDoc {
  /** rollupDocId(rollup, partition marker) */
  _id: string;
  /** rollupId(tenant, by, grain, label): the same for every partition's document. */
  rollup: string;
  /** rollupSlice(tenant, by, grain, day): the one equality a read filters on (the local store pushes equality down). */
  slice: string;
  tenant: string;
  by: RollupDimension;
  grain: RollupGrain;
  /** The hour (`2026-11-26T10:00Z`) of a minute document, the day (`2026-11-26`) of an hour document. */
  label: string;
  /** valueKey(value) → minute or hour label (`2026-11-26T10:15Z`, `2026-11-26T10:00Z`) → count. */
  counts: Record<string, Record<string, number>>;
  /**
   * The document's partition marker → the offset (`through`) of the last counts added: offsets only
   * grow, so one entry says what the document has, whatever the block.
   */
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

export const rollupId = (tenant: string, by: RollupDimension, grain: RollupGrain, label: string) =>
  JSON.stringify([tenant, by, grain, label]);
/** One partition's document of a rollup. */
export const rollupDocId = (rollup: string, marker: string) =>
  JSON.stringify([...(JSON.parse(rollup) as string[]), marker]);
export const rollupSlice = (tenant: string, by: RollupDimension, grain: RollupGrain, day: string) =>
  JSON.stringify([tenant, by, grain, day]);

export function blockOf(offset: string | number): number {
  return Math.floor(Number(offset) / ROLLUP_BLOCK_OFFSETS);
}

/** A field name (no '.', which Kafka allows in topic names and field paths do not; '~' it refuses). */
export function partitionMarker(topic: string, partition: number): string {
  return `${topic.replaceAll('.', '%2E')}~${partition}`;
}

export function blockKey(topic: string, partition: number, block: number): string {
  return `${partitionMarker(topic, partition)}~${block}`;
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

/** Adds one event to `cells` under each dimension, at both grains. */
export function countEvent(cells: CellCounts, event: CountedEvent): void {
  const { minute, hour, day } = event.buckets;
  for (const by of ROLLUP_DIMENSIONS) {
    const value = valueKey(event[by] ?? null);
    for (const key of [
      cellKey(rollupId(event.tenant, by, 'minute', hour), `counts.${value}.${minute}`),
      cellKey(rollupId(event.tenant, by, 'hour', day), `counts.${value}.${hour}`),
    ]) {
      cells.set(key, (cells.get(key) ?? 0) + 1);
    }
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
 * The conditional upserts that add `cells` to the partition's (`marker`'s) rollup documents as its
 * counts up to offset `through`: a document that already has them (applied[marker] ≥ through) does
 * not match, and its upsert collides on _id: that duplicate-key answer means "already added".
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
  return [...byDoc].map(([rollup, counts]) => {
    const [tenant, by, grain, label] = JSON.parse(rollup) as [string, RollupDimension, RollupGrain, string];
    return {
      updateOne: {
        filter: { _id: rollupDocId(rollup, marker), [`applied.${marker}`]: { $not: { $gte: through } } },
        update: {
          $setOnInsert: {
            rollup,
            slice: rollupSlice(tenant, by, grain, label.slice(0, 10)),
            tenant,
            by,
            grain,
            label,
          },
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
  /** Hours are enough (an hourly or daily answer): whole hours from the hour grain, the edges by minute. */
  hourly?: boolean;
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
const HOUR_MS = 3_600_000;

export interface RollupRow {
  /** A minute label, or an hour label for a whole hour (`2026-11-26T10:00Z`). */
  label: string;
  value: string | null;
  count: number;
}

/**
 * Counts per (label, value) over the range, from the rollups: one equality query per UTC day, and
 * for an hourly read, the minute documents of the two hours the range cuts; each partition's
 * documents added up.
 */
export async function readRollups(db: Db, read: RollupRead, maxTimeMS: number): Promise<RollupRow[]> {
  const rollups = db.collection<RollupDoc>(STORE.collections.rollups);
  const rows = new Map<string, RollupRow>();
  const take = (docs: RollupDoc[], since: Date, until: Date) => {
    const first = timeBuckets(since).minute;
    const end = timeBuckets(until).minute;
    for (const doc of docs) {
      for (const [field, labels] of Object.entries(doc.counts ?? {})) {
        const value = valueOfKey(field);
        for (const [label, count] of Object.entries(labels)) {
          // Labels of one format compare as times.
          if (!(label >= first && label < end && count > 0)) continue;
          const rowKey = JSON.stringify([label, field]);
          const row = rows.get(rowKey);
          if (row) row.count += count;
          else rows.set(rowKey, { label, value, count });
        }
      }
    }
  };
  const bySlice = async (grain: RollupGrain, since: Date, until: Date) => {
    const days = daysOf(since, until);
    for (let i = 0; i < days.length; i += DAYS_IN_FLIGHT) {
      const docs = await Promise.all(
        days
          .slice(i, i + DAYS_IN_FLIGHT)
          .map((day) =>
            rollups.find({ slice: rollupSlice(read.tenant, read.by, grain, day) }, { maxTimeMS }).toArray(),
          ),
      );
      take(docs.flat(), since, until);
    }
  };
  if (!read.hourly) {
    await bySlice('minute', read.since, read.until);
    return [...rows.values()];
  }
  const wholeFrom = new Date(Math.ceil(read.since.getTime() / HOUR_MS) * HOUR_MS);
  const wholeUntil = new Date(Math.floor(read.until.getTime() / HOUR_MS) * HOUR_MS);
  if (wholeFrom >= wholeUntil) {
    await bySlice('minute', read.since, read.until);
    return [...rows.values()];
  }
  await bySlice('hour', wholeFrom, wholeUntil);
  for (const [since, until] of [
    [read.since, wholeFrom],
    [wholeUntil, read.until],
  ] as const) {
    if (since >= until) continue;
    const hour = timeBuckets(since).hour;
    take(
      await rollups.find({ rollup: rollupId(read.tenant, read.by, 'minute', hour) }, { maxTimeMS }).toArray(),
      since,
      until,
    );
  }
  return [...rows.values()];
}
