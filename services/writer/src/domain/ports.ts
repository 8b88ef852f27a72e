import type { CellCounts, Checkpoint, RollupLedger, StoredEvent } from '@splitstream/shared';
import type { EachBatchPayload } from 'kafkajs';
import type { DeadLetter } from './decode';
import type { RecentIds } from './recent-ids';

/** What the store made of one bulk insert. */
export interface InsertOutcome {
  inserted: number;
  /** Indexes of documents already stored (same tenant, source and id): no-ops, not failures. */
  duplicateIndexes: number[];
  /** Documents refused for good, by their index in the call. */
  rejected: Array<{ index: number; code?: number; message: string }>;
}

/**
 * The store as the handler needs it. Errors are StoreUnavailableError (retried until it serves),
 * StoreUnknownError (retried a bounded number of times) or StoreRejectedError (isolated at once).
 */
export interface EventStore {
  insertEvents(docs: StoredEvent[]): Promise<InsertOutcome>;
  saveCheckpoint(checkpoint: Checkpoint): Promise<void>;
}

/** Where the stored copy of an event came from. */
export interface StoredPosition {
  topic: string;
  partition: number;
  offset: string;
}

/** The rollups and their per-block ledgers on the primary (see rollups.ts in shared). Errors as EventStore's. */
export interface RollupStore {
  ledger(blockKey: string): Promise<RollupLedger | null>;
  /** The positions of the stored copies of these identities (absent when none is stored). */
  storedPositions(ids: string[]): Promise<Map<string, StoredPosition>>;
  /** Adds `cells` to the rollups as `marker`'s counts up to `through`, where they are not already. */
  applyCells(marker: string, through: number, cells: CellCounts): Promise<void>;
  /** Writes the block's ledger, unless the stored one is further along. */
  saveLedger(ledger: RollupLedger): Promise<void>;
}

/** Where dead letters go (topic and store). Errors are retried; sending twice must be harmless. */
export interface DeadLetterSink {
  send(letters: DeadLetter[]): Promise<void>;
}

/** Position of one partition, for the lag metrics. */
export interface PartitionProgress {
  topic: string;
  partition: number;
  highWatermark: string;
  /** First offset not stored yet. */
  nextOffset: string;
  /** Kafka timestamp (ms) of the oldest event not stored yet, when there is one. */
  oldestUnstoredMs: number | undefined;
}

/** Why a partition is not advancing, as the metric label and readiness detail say it. */
export const STALL_REASONS = Object.freeze({
  storeUnavailable: 'store-unavailable',
  storeUnknown: 'store-unknown',
  deadLetterUnavailable: 'dead-letter-unavailable',
  unknown: 'unknown',
} as const);
export type StallReason = (typeof STALL_REASONS)[keyof typeof STALL_REASONS];

/** Hooks for metrics; every member optional so tests pass only what they look at. */
export interface BatchObserver {
  stored?(topic: string, count: number): void;
  duplicates?(topic: string, count: number): void;
  deadLettered?(reasonCode: string, count: number): void;
  microBatch?(size: number, writeSeconds: number): void;
  /** Seconds from ingest's receipt to stored and checkpointed, one per event of a micro-batch that is now in the store. */
  arrivalToStored?(seconds: number[]): void;
  retry?(operation: string, error: unknown): void;
  progress?(progress: PartitionProgress): void;
  /** A partition stopped advancing: `operation` keeps failing for `reason` (see stallReason). */
  stalled?(topic: string, partition: number, reason: StallReason): void;
  /** The operation that stalled the partition went through (or was given up and isolated). */
  resumed?(topic: string, partition: number): void;
  /** Events stored whose counts the store refused to keep: stats miss them (logged too). */
  rollupsRefused?(topic: string, count: number): void;
}

export interface HandlerLog {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface BatchHandlerDeps {
  store: EventStore;
  rollups: RollupStore;
  deadLetters: DeadLetterSink;
  clock: () => Date;
  sleep: (ms: number) => Promise<void>;
  /** Delay before retry number `attempt` (1-based). */
  backoff: (attempt: number) => number;
  log: HandlerLog;
  observer?: BatchObserver;
  /** Identities recently acknowledged by the store: known duplicates are not written again. */
  recent?: RecentIds;
  microBatchSize: number;
  maxEventBytes: number;
  /** Retries of a store failure nobody classified, before the batch is split to isolate the culprit. */
  unknownRetries: number;
  /** Longest time a micro-batch spends retrying unclassified failures before isolating (ms). */
  unknownRetryWindowMs: number;
  /** Longest wait between two heartbeats while backing off. */
  heartbeatIntervalMs: number;
}

/** One fetched batch of one partition, as each step of the handler sees it. */
export interface BatchScope {
  readonly topic: string;
  readonly partition: number;
  readonly payload: Pick<EachBatchPayload, 'heartbeat' | 'isRunning' | 'isStale'>;
  readonly deps: BatchHandlerDeps;
}
