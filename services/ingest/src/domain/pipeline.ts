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
  bytes: number;
  settled: boolean;
  resolve(written: WrittenMessage[]): void;
  reject(error: Error): void;
}

interface InFlight {
  entries: Entry[];
  done: Promise<void>;
}

const DEFAULT_RECOVERY_INITIAL_MS = 100;
const DEFAULT_RECOVERY_MAX_MS = 1_000;
/** Record overhead beyond key and value (headers, varints): an estimate for the byte budget. */
const MESSAGE_OVERHEAD_BYTES = 96;

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
    let bytes = 0;
    for (const message of messages) bytes += messageBytes(message);
    if (
      this.inflightMessages + messages.length > this.options.maxInflightMessages ||
      this.inflightBytes + bytes > this.options.maxInflightBytes
    ) {
      return Promise.reject(
        this.unavailable(UNAVAILABLE_REASONS.backpressure, 'ingest is at its in-flight limit; retry shortly'),
      );
    }
    return new Promise<WrittenMessage[]>((resolve, reject) => {
      const entry: Entry = { messages, bytes, settled: false, resolve, reject };
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
    // Queued entries were never sent: they leave the budget now.
    for (const entry of this.queue.splice(0)) {
      this.settle(entry, failure);
      this.release(entry);
    }
    this.queuedMessages = 0;
    this.queuedBytes = 0;
    // In-flight entries are answered now; their bytes stay counted until the send settles.
    for (const entry of this.inFlight?.entries ?? []) this.settle(entry, failure);
    if (!closing) this.recover();
  }

  /** Stops taking requests, sends what is queued, waits for the last acknowledgement, disconnects. */
  async close(): Promise<void> {
    if (this.stateValue === PIPELINE_STATES.closed) return;
    if (this.stateValue !== PIPELINE_STATES.closing) {
      const wasReady = this.stateValue === PIPELINE_STATES.ready;
      this.setState(PIPELINE_STATES.closing);
      if (!wasReady) this.trip('shutting down while the broker is unavailable');
    }
    this.recoverySleep?.wake();
    await this.recovering;
    this.clearLinger();
    while (this.queue.length > 0 || this.inFlight) {
      if (this.inFlight) await this.inFlight.done;
      else this.flush();
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

    // Whole requests only, in arrival order; a request larger than the bound goes alone.
    const entries: Entry[] = [];
    let count = 0;
    let bytes = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Entry;
      const fits =
        count + next.messages.length <= this.options.maxBatchMessages &&
        bytes + next.bytes <= this.options.maxBatchBytes;
      if (entries.length > 0 && (!this.options.microbatch || !fits)) break;
      this.queue.shift();
      entries.push(next);
      count += next.messages.length;
      bytes += next.bytes;
    }
    this.queuedMessages -= count;
    this.queuedBytes -= bytes;

    // Place every message ourselves so we know each one's index within its partition's record
    // batch: its offset is that partition's baseOffset plus the index.
    const messages: Message[] = [];
    const placements: Array<Array<{ partition: number; index: number }>> = [];
    const perPartition = new Map<number, number>();
    for (const entry of entries) {
      const placed: Array<{ partition: number; index: number }> = [];
      for (const message of entry.messages) {
        const partition = partitionFor(String(message.key), session.partitions);
        const index = perPartition.get(partition) ?? 0;
        perPartition.set(partition, index + 1);
        messages.push({ ...message, partition });
        placed.push({ partition, index });
      }
      placements.push(placed);
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
        const results = placements.map((placed) =>
          placed.map(({ partition, index }) => {
            const offset = base.get(partition);
            if (offset === undefined) throw new Error(`no acknowledgement for partition ${partition}`);
            return { partition, offset: String(offset + BigInt(index)) };
          }),
        );
        this.observer.batchSent(count, bytes, elapsed());
        entries.forEach((entry, i) => {
          this.settle(entry, undefined, results[i]);
        });
      })
      .catch((error: unknown) => {
        this.observer.batchFailed(count, elapsed());
        const failure = this.unavailable(
          UNAVAILABLE_REASONS.broker,
          'the event broker did not accept the events',
          error,
        );
        for (const entry of entries) this.settle(entry, failure);
        this.trip('a send failed', error);
      })
      .finally(() => {
        clearTimeout(stall);
        for (const entry of entries) this.release(entry);
        this.inFlight = undefined;
        // What queued during this send has waited at least a send's time: go at once.
        if (this.queue.length > 0) this.flush();
      });
    this.inFlight = { entries, done };
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

  private release(entry: Entry): void {
    this.inflightMessages -= entry.messages.length;
    this.inflightBytes -= entry.bytes;
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
