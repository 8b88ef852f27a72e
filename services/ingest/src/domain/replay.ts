import { Value } from '@sinclair/typebox/value';
import {
  type CloudEvent,
  cloudEventErrors,
  DEAD_LETTER_REASONS,
  type DeadLetterReasonCode,
  type DeadLetterRecord,
  decodeCursor,
  EVENT_LIMITS,
  encodeCursor,
  encodeToken,
  type FieldError,
  KAFKA_HEADERS,
  mergeOffsets,
  parseRfc3339,
  REPLAY_OF_HEADER,
  toKafkaMessage,
  ValidationError,
} from '@splitstream/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { Message } from 'kafkajs';
import { IngestUnavailableError } from '../errors';
import { REPLAY_LIMITS, type ReplayRequestBody, ReplayRequestSchema } from '../schemas/deadletters';
import type { WrittenMessage } from './pipeline';

/** Where a replay continues: after this dead letter, in (deadLetteredAt, _id) order. */
export interface ReplayCursor {
  deadLetteredAt: Date;
  deadLetterId: string;
}

/** What to replay, validated. */
export interface ReplaySelection {
  tenant: string;
  ids?: string[];
  source?: string;
  type?: string;
  reason?: DeadLetterReasonCode;
  since?: Date;
  until?: Date;
  limit: number;
  after?: ReplayCursor;
  includeReplayed: boolean;
}

export interface ReplayRequest {
  selection: Omit<ReplaySelection, 'tenant'>;
  dryRun: boolean;
}

/** Where a dead letter sits, without its (possibly large) value: what a selection returns. */
export type DeadLetterPosition = Pick<
  DeadLetterRecord,
  '_id' | 'deadLetteredAt' | 'topic' | 'partition' | 'offset'
>;

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

export interface SkippedDeadLetter {
  deadLetterId: string;
  id?: string;
  reason: string;
  errors?: FieldError[];
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
/** Validation faults listed per skipped dead letter. */
const MAX_SKIP_ERRORS = 10;
/** `code: detail` codes of a skip that are not dead-letter reasons. */
export const SKIP_REASONS = Object.freeze({ tenantMismatch: 'tenant-mismatch' });

// ---------------------------------------------------------------------------------------------
// The request

function invalid(errors: FieldError[]): never {
  const summary = errors
    .slice(0, 3)
    .map((e) => `${e.field} ${e.message}`)
    .join('; ');
  throw new ValidationError(`the replay request is not valid: ${summary}`, { errors });
}

const REASON_MESSAGE = `must be one of ${Object.values(DEAD_LETTER_REASONS).join(', ')}`;

// The shared keyset cursor (time, id): every value of its documented form is a position.
export function encodeReplayCursor(cursor: ReplayCursor): string {
  return encodeCursor({ time: cursor.deadLetteredAt, id: cursor.deadLetterId });
}

export function decodeReplayCursor(value: string): ReplayCursor {
  const { time, id } = decodeCursor(value, '/cursor');
  return { deadLetteredAt: time, deadLetterId: id };
}

/**
 * The body of POST /v1/deadletters/replay, or a 400 naming every bad field as a JSON pointer.
 * Unknown fields are refused, not ignored: a misspelt criterion must never widen a replay.
 */
export function parseReplayRequest(body: unknown): ReplayRequest {
  if (body === undefined || body === null) {
    invalid([{ field: '/', message: 'must be a JSON object (`{}` replays the oldest dead letters)' }]);
  }
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(ReplayRequestSchema, body)) {
    const field = error.path || '/';
    if (seen.has(field)) continue;
    seen.add(field);
    errors.push({ field, message: field === '/filter/reason' ? REASON_MESSAGE : error.message });
  }
  // Calendar checks run even when the schema found other faults, so one answer names them all.
  const time = (name: 'since' | 'until'): Date | undefined => {
    const value = (body as { filter?: Record<string, unknown> } | null)?.filter?.[name];
    const field = `/filter/${name}`;
    if (typeof value !== 'string' || seen.has(field)) return undefined;
    try {
      return parseRfc3339(value, field);
    } catch (error) {
      errors.push(...((error as ValidationError).errors ?? []));
      return undefined;
    }
  };
  const since = time('since');
  const until = time('until');
  if (errors.length > 0) invalid(errors.slice(0, 100));
  const request = body as ReplayRequestBody;
  const filter = request.filter ?? {};
  return {
    dryRun: request.dryRun ?? false,
    selection: {
      ...(filter.ids ? { ids: [...new Set(filter.ids)] } : {}),
      ...(filter.source !== undefined ? { source: filter.source } : {}),
      ...(filter.type !== undefined ? { type: filter.type } : {}),
      ...(filter.reason !== undefined ? { reason: filter.reason } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      limit: request.limit ?? REPLAY_LIMITS.default,
      ...(request.cursor !== undefined ? { after: decodeReplayCursor(request.cursor) } : {}),
      includeReplayed: request.includeReplayed ?? false,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// One record

export type PlannedReplay =
  | { ok: true; deadLetterId: string; eventId: string; message: Message; bytes: number }
  | { ok: false; skipped: SkippedDeadLetter };

function skip(record: DeadLetterRecord, code: string, detail: string, errors?: FieldError[]): PlannedReplay {
  return {
    ok: false,
    skipped: {
      deadLetterId: record._id,
      ...(record.id !== undefined ? { id: record.id } : {}),
      reason: `${code}: ${detail}`,
      ...(errors && errors.length > 0 ? { errors: errors.slice(0, MAX_SKIP_ERRORS) } : {}),
    },
  };
}

/**
 * A dead letter as the message a POST of its original event would have produced (shared
 * toKafkaMessage: key, content type, tenant and the original receipt time), plus the replay-of
 * header; or why it cannot be replayed (it then stays dead, unmarked).
 */
export function planReplay(record: DeadLetterRecord, tenant: string, now: Date): PlannedReplay {
  // The selection filters by tenant already; this keeps a record of another tenant out even if it did not.
  if (record.tenant !== tenant) {
    return skip(record, SKIP_REASONS.tenantMismatch, 'the dead letter belongs to another tenant');
  }
  if (typeof record.value !== 'string' || record.value.length === 0) {
    return skip(record, DEAD_LETTER_REASONS.undecodable, 'the dead letter has no text value');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.value);
  } catch (error) {
    return skip(record, DEAD_LETTER_REASONS.undecodable, `value is not JSON (${(error as Error).message})`);
  }
  const errors = cloudEventErrors(parsed);
  if (errors.length > 0) {
    const detail = errors
      .slice(0, 3)
      .map((e) => `${e.field} ${e.message}`)
      .join('; ');
    return skip(record, DEAD_LETTER_REASONS.invalidEvent, `still not a valid CloudEvent: ${detail}`, errors);
  }
  const event = parsed as CloudEvent;
  const header = record.headers?.[KAFKA_HEADERS.receivedAt];
  const original = header === undefined ? Number.NaN : Date.parse(header);
  const receivedAt = Number.isNaN(original) ? now : new Date(original);
  const base = toKafkaMessage(
    tenant,
    event.time === undefined ? { ...event, time: receivedAt.toISOString() } : event,
    receivedAt,
  );
  const bytes = Buffer.byteLength(base.value as string);
  if (bytes > EVENT_LIMITS.maxEventBytes) {
    return skip(
      record,
      DEAD_LETTER_REASONS.tooLarge,
      `the event is ${bytes} bytes; an event may have at most ${EVENT_LIMITS.maxEventBytes}`,
    );
  }
  const message: Message = {
    ...base,
    headers: { ...base.headers, [REPLAY_OF_HEADER]: record._id },
  };
  return { ok: true, deadLetterId: record._id, eventId: event.id, message, bytes };
}

/**
 * Original order: by dead-letter time, then by where the original was in Kafka (numerically: the
 * stored `_id` orders offsets as text), so events of one key are re-produced in their order.
 */
export function replayOrder(a: DeadLetterPosition, b: DeadLetterPosition): number {
  const byTime = a.deadLetteredAt.getTime() - b.deadLetteredAt.getTime();
  if (byTime !== 0) return byTime;
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.partition !== b.partition) return a.partition - b.partition;
  const [x, y] = [BigInt(a.offset), BigInt(b.offset)];
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---------------------------------------------------------------------------------------------
// The replay

/** Planned messages in sends no larger than one batch request (the pipeline's budget holds two). */
function* sends(planned: Extract<PlannedReplay, { ok: true }>[]) {
  let current: typeof planned = [];
  let bytes = 0;
  for (const p of planned) {
    if (
      current.length > 0 &&
      (current.length >= EVENT_LIMITS.maxBatchEvents || bytes + p.bytes > EVENT_LIMITS.maxBatchBytes)
    ) {
      yield current;
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += p.bytes;
  }
  if (current.length > 0) yield current;
}

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
  const nextCursor =
    more && last ? encodeReplayCursor({ deadLetteredAt: last.deadLetteredAt, deadLetterId: last._id }) : null;
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
      const planned: Extract<PlannedReplay, { ok: true }>[] = [];
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
