import {
  type DeadLetterRecord,
  deadLetterPosition,
  encodeCursor,
  encodeToken,
  mergeOffsets,
} from '@splitstream/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Message } from 'kafkajs';
import { IngestUnavailableError } from '../../errors';
import type { WrittenMessage } from '../pipeline';
import {
  type DeadLetterPosition,
  planReplay,
  type ReplayablePlan,
  replayOrder,
  type SkippedDeadLetter,
  sends,
} from './plan';
import type { ReplayRequest, ReplaySelection } from './request';

export interface ReplayMark {
  deadLetterId: string;
  partition: number;
  offset: string;
}

/** The dead-letter records, as the replay needs them (MongoDeadLetters in production, fakes in unit tests). */
export interface DeadLetterSource {
  /** Up to `limit` + 1 positions matching the selection, in (deadLetteredAt, _id) order. */
  select(selection: ReplaySelection): Promise<DeadLetterPosition[]>;
  /** How many records match the selection but were replayed before (without limit or cursor). */
  countReplayed(selection: ReplaySelection): Promise<number>;
  /** The full records of these ids, any order. */
  load(tenant: string, deadLetterIds: string[]): Promise<DeadLetterRecord[]>;
  markReplayed(tenant: string, topic: string, marks: ReplayMark[], at: Date): Promise<void>;
}

export interface ReplayResult {
  dryRun: boolean;
  matched: number;
  replayed: number;
  ids: string[];
  deadLetterIds: string[];
  skipped: SkippedDeadLetter[];
  alreadyReplayed: number;
  nextCursor: string | null;
  /** Not on a dry run. */
  unmarked?: string[];
  token?: string;
}

export interface ReplayDeps {
  source: DeadLetterSource;
  /** The producer pipeline: resolves once Kafka acknowledged every message (acks=all). */
  submit(messages: Message[]): Promise<WrittenMessage[]>;
  /** The topic replays go to (ingest's). */
  topic: string;
  retryAfterSeconds: number;
  /** Turns a store failure into a 503 (any other error passes through unchanged). */
  storeError(error: unknown): unknown;
  log: FastifyBaseLogger;
  now?: () => Date;
  onReplayed?(count: number): void;
  onSkipped?(code: string): void;
}

/** Records loaded per store round trip: bounds memory (a value can be up to a Kafka message). */
export const LOAD_CHUNK = 100;

/**
 * Selects the tenant's matching dead letters, validates each original again and, unless it is a
 * dry run, re-produces the valid ones through the pipeline in their original order, marking each
 * record once Kafka acknowledged its copy. A failure part-way answers 503 saying what was replayed
 * (and marked) before it: repeating the request replays the rest.
 */
export async function replayDeadLetters(
  deps: ReplayDeps,
  tenant: string,
  request: ReplayRequest,
): Promise<ReplayResult> {
  const now = deps.now ?? (() => new Date());
  const selection: ReplaySelection = { tenant, ...request.selection };
  const { dryRun } = request;
  const ids: string[] = [];
  const deadLetterIds: string[] = [];
  const skipped: SkippedDeadLetter[] = [];
  const unmarked: string[] = [];
  const offsets: Record<string, string> = {};
  const token = () => encodeToken({ topic: deps.topic, offsets });

  const store = async <T>(operation: () => Promise<T>): Promise<T> => {
    try {
      return await operation();
    } catch (error) {
      throw deps.storeError(error);
    }
  };

  const page = await store(() => deps.source.select(selection));
  const more = page.length > selection.limit;
  if (more) page.length = selection.limit;
  const last = page.at(-1);
  const nextCursor = more && last ? encodeCursor(deadLetterPosition(last)) : null;
  const alreadyReplayed = selection.includeReplayed
    ? 0
    : await store(() => deps.source.countReplayed(selection));
  const ordered = [...page].sort(replayOrder);

  try {
    for (let from = 0; from < ordered.length; from += LOAD_CHUNK) {
      const chunk = ordered.slice(from, from + LOAD_CHUNK);
      const loaded = await store(() =>
        deps.source.load(
          tenant,
          chunk.map((p) => p._id),
        ),
      );
      const byId = new Map(loaded.map((r) => [r._id, r]));
      const planned: ReplayablePlan[] = [];
      // A record gone between selection and load (deleted meanwhile) is simply not replayed.
      for (const position of chunk) {
        const record = byId.get(position._id);
        if (!record) continue;
        const plan = planReplay(record, tenant, now());
        if (plan.ok) planned.push(plan);
        else {
          skipped.push(plan.skipped);
          deps.onSkipped?.(plan.skipped.reason.split(':')[0] as string);
        }
      }
      if (dryRun) {
        for (const p of planned) {
          ids.push(p.eventId);
          deadLetterIds.push(p.deadLetterId);
        }
        continue;
      }
      for (const send of sends(planned)) {
        const written = await deps.submit(send.map((p) => p.message));
        const marks = send.map((p, i) => {
          const at = written[i] as WrittenMessage;
          mergeOffsets(offsets, at.partition, at.offset);
          ids.push(p.eventId);
          deadLetterIds.push(p.deadLetterId);
          return { deadLetterId: p.deadLetterId, partition: at.partition, offset: at.offset };
        });
        deps.onReplayed?.(send.length);
        try {
          await deps.source.markReplayed(tenant, deps.topic, marks, now());
        } catch (error) {
          // The events are in Kafka: the answer stays 202; only "skip it next time" was lost.
          unmarked.push(...marks.map((m) => m.deadLetterId));
          deps.log.warn(
            { err: error, deadLetters: marks.length },
            'replayed dead letters could not be marked',
          );
        }
      }
    }
  } catch (error) {
    if (ids.length === 0 || dryRun) throw error;
    throw partialFailure(
      error,
      deps,
      { replayed: ids.length, ids, deadLetterIds, token: token() },
      page.length,
    );
  }

  return {
    dryRun,
    matched: page.length,
    replayed: ids.length,
    ids,
    deadLetterIds,
    skipped,
    alreadyReplayed,
    nextCursor,
    ...(dryRun ? {} : { unmarked, token: token() }),
  };
}

function partialFailure(
  error: unknown,
  deps: ReplayDeps,
  progress: { replayed: number; ids: string[]; deadLetterIds: string[]; token: string },
  matched: number,
): unknown {
  if (!(error instanceof IngestUnavailableError)) return error;
  const message = `${error.message}; ${progress.replayed} of ${matched} dead letters were replayed (and marked) before that: repeat the request to replay the rest`;
  return new IngestUnavailableError(error.reason, message, {
    retryAfterSeconds: error.retryAfterSeconds ?? deps.retryAfterSeconds,
    cause: error,
    extensions: progress,
  });
}
