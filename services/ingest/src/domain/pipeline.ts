import type { FastifyBaseLogger } from 'fastify';
import type { Message, RecordMetadata } from 'kafkajs';
import { IngestUnavailableError, UNAVAILABLE_REASONS, type UnavailableReason } from '../errors';
import { partitionFor } from './partitioning';

/**
 * One connected producer (a fresh producer id): sends a batch to the topic with acks=all and
 * resolves with kafkajs's per-partition RecordMetadata. A session that failed is never reused:
 * an idempotent producer that gave up on a batch may have sequence numbers the broker no longer
 * agrees with, so the next batch could be dropped as a "duplicate" while being acknowledged.
 */
export interface ProducerSession {
  /** Partition count of the topic when the session opened (keys are placed with it). */
  readonly partitions: number;
  sendBatch(messages: Message[]): Promise<RecordMetadata[]>;
  disconnect(): Promise<void>;
}

export type OpenSession = () => Promise<ProducerSession>;

export interface PipelineOptions {
  /** false: one sendBatch per request (still one at a time), the baseline the micro-batcher is measured against. */
  microbatch: boolean;
  lingerMs: number;
  maxBatchMessages: number;
  maxBatchBytes: number;
  /**
   * Bytes for one partition in one send. kafkajs writes all of a partition's messages of a send as
   * one record batch, which the broker refuses above message.max.bytes (1 MiB by default): a request
   * with more than this for one partition is sent in consecutive parts.
   */
  maxPartitionBytes: number;
  maxInflightMessages: number;
  maxInflightBytes: number;
  stallMs: number;
  retryAfterSeconds: number;
  recoveryInitialMs?: number;
  recoveryMaxMs?: number;
}

/** Metric hooks, so the pipeline stays free of any metrics library. */
export interface PipelineObserver {
  batchSent(messages: number, bytes: number, seconds: number): void;
  batchFailed(messages: number, seconds: number): void;
  stateChanged(state: PipelineState): void;
  inflightChanged(messages: number, bytes: number): void;
}

export const PIPELINE_STATES = Object.freeze({
  unavailable: 'unavailable',
  ready: 'ready',
  closing: 'closing',
  closed: 'closed',
});
export type PipelineState = (typeof PIPELINE_STATES)[keyof typeof PIPELINE_STATES];

/** Where one message of a request was written. Offsets are int64: decimal strings. */
export interface WrittenMessage {
  partition: number;
  offset: string;
}

interface Entry {
  messages: Message[];
  /** Estimated size of each message. */
  sizes: number[];
  /** Partition of each message, fixed when the entry is first sent. */
  partitions: number[] | undefined;
  /** Messages handed to sends so far (a request larger than one send goes in parts). */
  sent: number;
  written: WrittenMessage[];
  settled: boolean;
  resolve(written: WrittenMessage[]): void;
  reject(error: Error): void;
}

/** Messages [from, to) of one request, in one send. */
interface Slice {
  entry: Entry;
  from: number;
  to: number;
  bytes: number;
}

interface InFlight {
  slices: Slice[];
  done: Promise<void>;
}

const DEFAULT_RECOVERY_INITIAL_MS = 100;
const DEFAULT_RECOVERY_MAX_MS = 1_000;
/** Record overhead beyond key and value (three headers, varints, attributes): a generous estimate. */
const MESSAGE_OVERHEAD_BYTES = 160;

const noopObserver: PipelineObserver = {
  batchSent() {},
  batchFailed() {},
  stateChanged() {},
  inflightChanged() {},
};

function messageBytes(message: Message): number {
  const size = (v: Message['key'] | Message['value']) =>
    v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  return size(message.key) + size(message.value) + MESSAGE_OVERHEAD_BYTES;
}

/**
 * Between the routes and Kafka: a bounded in-flight budget, a micro-batcher that coalesces the
 * messages of concurrent requests into one sendBatch (one send in flight at a time, as the
 * idempotent producer requires; what arrives meanwhile forms the next batch), and a breaker that
 * answers 503 at once while the broker is unreachable and reconnects by itself.
 *
 * A request is resolved only with offsets the broker acknowledged for its own messages; any doubt
 * (send failed, stalled, connection lost, shutting down) rejects it with a 503, never a 202.
 */
export class ProducerPipeline {
  private stateValue: PipelineState = PIPELINE_STATES.unavailable;
  private session: ProducerSession | undefined;
  private readonly queue: Entry[] = [];
  private queuedMessages = 0;
  private queuedBytes = 0;
  private inflightMessages = 0;
  private inflightBytes = 0;
  private inFlight: InFlight | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private recovering: Promise<void> | undefined;
  private recoverySleep: { timer: NodeJS.Timeout; wake(): void } | undefined;

  constructor(
    private readonly openSession: OpenSession,
    private readonly options: PipelineOptions,
    private readonly log: FastifyBaseLogger,
    private readonly observer: PipelineObserver = noopObserver,
  ) {}

  get state(): PipelineState {
    return this.stateValue;
  }

  get inflight(): { messages: number; bytes: number } {
    return { messages: this.inflightMessages, bytes: this.inflightBytes };
  }

  /** Opens the first session; resolves after the first attempt either way (later attempts run in the background). */
  async start(): Promise<void> {
    let firstAttempt!: () => void;
    const attempted = new Promise<void>((resolve) => {
      firstAttempt = resolve;
    });
    this.recover(firstAttempt);
    await attempted;
  }

  /**
   * Queues one request's messages; resolves with each message's partition and offset once the
   * broker acknowledged all of them. Throws IngestUnavailableError at once when it cannot take them.
   */
  submit(messages: Message[]): Promise<WrittenMessage[]> {
    if (this.stateValue === PIPELINE_STATES.closing || this.stateValue === PIPELINE_STATES.closed) {
      return Promise.reject(this.unavailable(UNAVAILABLE_REASONS.shuttingDown, 'ingest is shutting down'));
    }
    if (this.stateValue !== PIPELINE_STATES.ready) {
      return Promise.reject(this.unavailable(UNAVAILABLE_REASONS.broker, 'the event broker is unreachable'));
    }
    const sizes = messages.map(messageBytes);
    let bytes = 0;
    for (const size of sizes) bytes += size;
    if (
      this.inflightMessages + messages.length > this.options.maxInflightMessages ||
      this.inflightBytes + bytes > this.options.maxInflightBytes
    ) {
      return Promise.reject(
        this.unavailable(UNAVAILABLE_REASONS.backpressure, 'ingest is at its in-flight limit; retry shortly'),
      );
    }
    return new Promise<WrittenMessage[]>((resolve, reject) => {
      const entry: Entry = {
        messages,
        sizes,
        partitions: undefined,
        sent: 0,
        written: [],
        settled: false,
        resolve,
        reject,
      };
      this.queue.push(entry);
      this.queuedMessages += messages.length;
      this.queuedBytes += bytes;
      this.inflightMessages += messages.length;
      this.inflightBytes += bytes;
      this.observer.inflightChanged(this.inflightMessages, this.inflightBytes);
      this.schedule();
    });
  }

  /**
   * The broker looks gone (a socket error, a stalled or failed send): answer 503 to everyone
   * waiting and to every new request until a fresh session connects.
   */
  trip(reason: string, error?: unknown): void {
    if (this.stateValue !== PIPELINE_STATES.ready && this.stateValue !== PIPELINE_STATES.closing) return;
    const closing = this.stateValue === PIPELINE_STATES.closing;
    this.log.warn({ err: error, reason }, 'event broker unavailable: answering 503 until it is back');
    if (!closing) this.setState(PIPELINE_STATES.unavailable);
    this.clearLinger();
    const failure = this.unavailable(UNAVAILABLE_REASONS.broker, 'the event broker is unreachable', error);
    // What was never sent leaves the budget now.
    for (const entry of this.queue.splice(0)) {
      this.settle(entry, failure);
      let unsent = 0;
      for (let i = entry.sent; i < entry.messages.length; i += 1) unsent += entry.sizes[i] as number;
      this.release(entry.messages.length - entry.sent, unsent);
    }
    this.queuedMessages = 0;
    this.queuedBytes = 0;
    // Requests in flight are answered now; their bytes stay counted until the send settles.
    for (const slice of this.inFlight?.slices ?? []) this.settle(slice.entry, failure);
    if (!closing) this.recover();
  }

  /** Stops taking requests, sends what is queued, waits for the last acknowledgement, disconnects. */
  async close(): Promise<void> {
    if (this.stateValue === PIPELINE_STATES.closed) return;
    // From here submit() refuses; while unavailable the queue is already empty (trip emptied it).
    if (this.stateValue !== PIPELINE_STATES.closing) this.setState(PIPELINE_STATES.closing);
    this.recoverySleep?.wake();
    await this.recovering;
    this.clearLinger();
    while (this.queue.length > 0 || this.inFlight) {
      if (!this.inFlight) this.flush();
      // Nothing could be sent (no session): what is queued gets a 503, never a silent drop.
      if (!this.inFlight) {
        this.trip('shutting down without a producer');
        break;
      }
      await this.inFlight.done;
    }
    const session = this.session;
    this.session = undefined;
    this.setState(PIPELINE_STATES.closed);
    if (session) await this.disconnect(session);
  }

  private schedule(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const full =
      this.queuedMessages >= this.options.maxBatchMessages || this.queuedBytes >= this.options.maxBatchBytes;
    if (!this.options.microbatch || this.options.lingerMs === 0 || full) {
      this.flush();
    } else if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.flush();
      }, this.options.lingerMs);
    }
  }

  private flush(): void {
    this.clearLinger();
    const session = this.session;
    const sending = this.stateValue === PIPELINE_STATES.ready || this.stateValue === PIPELINE_STATES.closing;
    if (this.inFlight || !session || !sending || this.queue.length === 0) return;

    const slices = this.takeSlices(session.partitions);
    let count = 0;
    let bytes = 0;
    for (const slice of slices) {
      count += slice.to - slice.from;
      bytes += slice.bytes;
    }
    this.queuedMessages -= count;
    this.queuedBytes -= bytes;

    // We place every message ourselves so we know its index within its partition's record batch:
    // its offset is that partition's baseOffset plus the index.
    const messages: Message[] = [];
    const indexes: number[][] = [];
    const perPartition = new Map<number, number>();
    for (const { entry, from, to } of slices) {
      const sliceIndexes: number[] = [];
      for (let i = from; i < to; i += 1) {
        const partition = (entry.partitions as number[])[i] as number;
        const index = perPartition.get(partition) ?? 0;
        perPartition.set(partition, index + 1);
        messages.push({ ...(entry.messages[i] as Message), partition });
        sliceIndexes.push(index);
      }
      indexes.push(sliceIndexes);
    }

    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const stall = setTimeout(
      () => this.trip(`the broker has not acknowledged a send for ${this.options.stallMs} ms`),
      this.options.stallMs,
    );
    const done = session
      .sendBatch(messages)
      .then((records) => {
        const base = new Map<number, bigint>();
        for (const record of records) {
          if (record.baseOffset !== undefined) base.set(record.partition, BigInt(record.baseOffset));
        }
        for (const partition of perPartition.keys()) {
          if (!base.has(partition)) throw new Error(`no acknowledgement for partition ${partition}`);
        }
        this.observer.batchSent(count, bytes, elapsed());
        slices.forEach(({ entry, from, to }, s) => {
          const partitions = entry.partitions as number[];
          for (let i = from; i < to; i += 1) {
            const partition = partitions[i] as number;
            const index = (indexes[s] as number[])[i - from] as number;
            entry.written[i] = { partition, offset: String((base.get(partition) as bigint) + BigInt(index)) };
          }
          // Sends are sequential: the last part succeeding means every earlier part did.
          if (to === entry.messages.length) this.settle(entry, undefined, entry.written);
        });
      })
      .catch((error: unknown) => {
        this.observer.batchFailed(count, elapsed());
        const failure = this.unavailable(
          UNAVAILABLE_REASONS.broker,
          'the event broker did not accept the events',
          error,
        );
        for (const { entry } of slices) this.settle(entry, failure);
        this.trip('a send failed', error);
      })
      .finally(() => {
        clearTimeout(stall);
        this.release(count, bytes);
        this.inFlight = undefined;
        // What queued during this send has waited at least a send's time: go at once.
        if (this.queue.length > 0) this.flush();
      });
    this.inFlight = { slices, done };
  }

  /**
   * The next send: whole requests in arrival order within the bounds; a request that does not fit
   * alone goes first and only in part (the rest stays at the head of the queue for the next send).
   */
  private takeSlices(partitionCount: number): Slice[] {
    const { maxBatchMessages, maxBatchBytes, maxPartitionBytes, microbatch } = this.options;
    const slices: Slice[] = [];
    const perPartition = new Map<number, number>();
    let count = 0;
    let bytes = 0;
    while (this.queue.length > 0) {
      const entry = this.queue[0] as Entry;
      entry.partitions ??= entry.messages.map((m) => partitionFor(String(m.key), partitionCount));
      const partitions = entry.partitions;
      const fits = (i: number, extraPartitionBytes: Map<number, number>) => {
        const p = partitions[i] as number;
        const size = entry.sizes[i] as number;
        return (perPartition.get(p) ?? 0) + (extraPartitionBytes.get(p) ?? 0) + size <= maxPartitionBytes;
      };
      const from = entry.sent;
      let to = from;
      let sliceBytes = 0;
      const sliceByPartition = new Map<number, number>();
      while (to < entry.messages.length) {
        const size = entry.sizes[to] as number;
        const ok =
          count + (to - from) + 1 <= maxBatchMessages &&
          bytes + sliceBytes + size <= maxBatchBytes &&
          fits(to, sliceByPartition);
        // A send carries at least one message, whatever its size.
        if (!ok && (slices.length > 0 || to > from)) break;
        const p = partitions[to] as number;
        sliceByPartition.set(p, (sliceByPartition.get(p) ?? 0) + size);
        sliceBytes += size;
        to += 1;
      }
      const whole = to === entry.messages.length;
      // Split only the request that opens a send; any other one waits for the next send entire.
      if (to === from || (!whole && slices.length > 0)) break;
      slices.push({ entry, from, to, bytes: sliceBytes });
      count += to - from;
      bytes += sliceBytes;
      for (const [p, b] of sliceByPartition) perPartition.set(p, (perPartition.get(p) ?? 0) + b);
      entry.sent = to;
      if (!whole) break;
      this.queue.shift();
      if (!microbatch) break;
    }
    return slices;
  }

  /** Opens a fresh session, retrying with backoff while the pipeline is unavailable. */
  private recover(firstAttempt?: () => void): void {
    if (this.recovering) {
      firstAttempt?.();
      return;
    }
    this.recovering = (async () => {
      // Let the failed send settle first: its messages must not land after newer ones of the same key.
      while (this.inFlight) await this.inFlight.done;
      const old = this.session;
      this.session = undefined;
      if (old) await this.disconnect(old);
      let delay = this.options.recoveryInitialMs ?? DEFAULT_RECOVERY_INITIAL_MS;
      while (this.stateValue === PIPELINE_STATES.unavailable) {
        try {
          const session = await this.openSession();
          if (this.stateValue !== PIPELINE_STATES.unavailable) {
            await this.disconnect(session);
            break;
          }
          this.session = session;
          this.setState(PIPELINE_STATES.ready);
          this.log.info({ partitions: session.partitions }, 'event broker connected');
        } catch (error) {
          this.log.warn({ err: error, retryInMs: delay }, 'event broker connection failed');
          firstAttempt?.();
          await this.sleep(delay);
          delay = Math.min(delay * 2, this.options.recoveryMaxMs ?? DEFAULT_RECOVERY_MAX_MS);
        }
      }
    })().finally(() => {
      this.recovering = undefined;
      firstAttempt?.();
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.recoverySleep = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.recoverySleep = { timer, wake };
    });
  }

  private async disconnect(session: ProducerSession): Promise<void> {
    try {
      await session.disconnect();
    } catch (error) {
      this.log.warn({ err: error }, 'producer disconnect failed');
    }
  }

  private settle(entry: Entry, error: Error | undefined, written?: WrittenMessage[]): void {
    if (entry.settled) return;
    entry.settled = true;
    if (error || !written) entry.reject(error ?? new Error('no acknowledgement'));
    else entry.resolve(written);
  }

  private release(messages: number, bytes: number): void {
    this.inflightMessages -= messages;
    this.inflightBytes -= bytes;
    this.observer.inflightChanged(this.inflightMessages, this.inflightBytes);
  }

  private clearLinger(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  private setState(state: PipelineState): void {
    this.stateValue = state;
    this.observer.stateChanged(state);
  }

  private unavailable(reason: UnavailableReason, message: string, cause?: unknown): IngestUnavailableError {
    return new IngestUnavailableError(reason, message, {
      retryAfterSeconds: this.options.retryAfterSeconds,
      cause,
    });
  }
}
