import type { Message } from 'kafkajs';
import { IngestUnavailableError, UNAVAILABLE_REASONS, type UnavailableReason } from '../errors';
import {
  BrokerConnection,
  type DomainLogger,
  type OpenSession,
  PIPELINE_STATES,
  type PipelineState,
  type RecoveryOptions,
} from './broker-connection';
import { InflightBudget } from './inflight-budget';
import { acknowledgedOffsets, layOut, type WrittenMessage } from './offsets';
import { partitionFor } from './partitioning';
import { answer, fail, type PendingRequest, RequestQueue, recordWritten } from './request-queue';
import { bytesOf, messageBytes, type SendLimits, type Slice } from './send-planner';

export {
  type DomainLogger,
  type OpenSession,
  PIPELINE_STATES,
  type PipelineState,
  type ProducerSession,
} from './broker-connection';
export type { WrittenMessage } from './offsets';

/** The send limits (microbatch, batch and partition bounds) and recovery backoff, and these. */
export interface PipelineOptions extends SendLimits, RecoveryOptions {
  lingerMs: number;
  maxInflightMessages: number;
  maxInflightBytes: number;
  stallMs: number;
  retryAfterSeconds: number;
}

/** Metric hooks, so the pipeline stays free of any metrics library. */
export interface PipelineObserver {
  batchSent(messages: number, bytes: number, seconds: number): void;
  batchFailed(messages: number, seconds: number): void;
  stateChanged(state: PipelineState): void;
  inflightChanged(messages: number, bytes: number): void;
}

interface Send {
  slices: Slice<PendingRequest>[];
  done: Promise<void>;
}

const noopObserver: PipelineObserver = {
  batchSent() {},
  batchFailed() {},
  stateChanged() {},
  inflightChanged() {},
};

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
  private readonly connection: BrokerConnection;
  private readonly budget: InflightBudget;
  private readonly queue = new RequestQueue();
  private inFlight: Send | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;

  constructor(
    openSession: OpenSession,
    private readonly options: PipelineOptions,
    log: DomainLogger,
    private readonly observer: PipelineObserver = noopObserver,
  ) {
    this.budget = new InflightBudget(
      { maxMessages: options.maxInflightMessages, maxBytes: options.maxInflightBytes },
      ({ messages, bytes }) => observer.inflightChanged(messages, bytes),
    );
    this.connection = new BrokerConnection(openSession, options, log, {
      stateChanged: (state) => observer.stateChanged(state),
      inFlight: () => this.inFlight?.done,
    });
  }

  get state(): PipelineState {
    return this.connection.state;
  }

  get inflight(): { messages: number; bytes: number } {
    return this.budget.usage;
  }

  /** Opens the first session; resolves after the first attempt either way (later attempts run in the background). */
  start(): Promise<void> {
    return this.connection.start();
  }

  /**
   * Queues one request's messages; resolves with each message's partition and offset once the
   * broker acknowledged all of them. Throws IngestUnavailableError at once when it cannot take them.
   */
  submit(messages: Message[]): Promise<WrittenMessage[]> {
    const { state } = this.connection;
    if (state === PIPELINE_STATES.closing || state === PIPELINE_STATES.closed) {
      return Promise.reject(this.unavailable(UNAVAILABLE_REASONS.shuttingDown, 'ingest is shutting down'));
    }
    const session = this.connection.sendingSession;
    if (state !== PIPELINE_STATES.ready || !session) {
      return Promise.reject(this.unavailable(UNAVAILABLE_REASONS.broker, 'the event broker is unreachable'));
    }
    const sized = messages.map((message) => ({ message, size: messageBytes(message) }));
    const bytes = bytesOf(sized);
    if (!this.budget.tryTake(messages.length, bytes)) {
      return Promise.reject(
        this.unavailable(UNAVAILABLE_REASONS.backpressure, 'ingest is at its in-flight limit; retry shortly'),
      );
    }
    // The partition is fixed now: every part of a request sent in parts goes where the first went.
    const outgoing = sized.map(({ message, size }) => ({
      message,
      size,
      partition: partitionFor(String(message.key), session.partitions),
    }));
    return new Promise<WrittenMessage[]>((resolve, reject) => {
      this.queue.push({ messages: outgoing, sent: 0, written: [], settled: false, resolve, reject }, bytes);
      this.schedule();
    });
  }

  /**
   * The broker looks gone (a socket error, a stalled or failed send): answer 503 to everyone
   * waiting and to every new request until a fresh session connects.
   */
  trip(reason: string, error?: unknown): void {
    this.connection.trip(reason, error, () => {
      this.clearLinger();
      const failure = this.unavailable(UNAVAILABLE_REASONS.broker, 'the event broker is unreachable', error);
      // What was never sent leaves the budget now.
      for (const { request, unsentMessages, unsentBytes } of this.queue.drain()) {
        fail(request, failure);
        this.budget.release(unsentMessages, unsentBytes);
      }
      // Requests in flight are answered now; their bytes stay counted until the send settles.
      for (const { request } of this.inFlight?.slices ?? []) fail(request, failure);
    });
  }

  /** Stops taking requests, sends what is queued, waits for the last acknowledgement, disconnects. */
  async close(): Promise<void> {
    if (this.connection.state === PIPELINE_STATES.closed) return;
    // From here submit() refuses; while unavailable the queue is already empty (trip emptied it).
    await this.connection.beginClose();
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
    await this.connection.finishClose();
  }

  private schedule(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const { microbatch, lingerMs } = this.options;
    if (!microbatch || lingerMs === 0 || this.queue.holdsFullBatch(this.options)) {
      this.flush();
    } else if (!this.lingerTimer) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = undefined;
        this.flush();
      }, lingerMs);
    }
  }

  private flush(): void {
    this.clearLinger();
    const session = this.connection.sendingSession;
    if (this.inFlight || !session || this.queue.length === 0) return;

    const slices = this.queue.take(this.options);
    let count = 0;
    let bytes = 0;
    for (const slice of slices) {
      count += slice.to - slice.from;
      bytes += slice.bytes;
    }
    const { messages, placements } = layOut(
      slices.flatMap(({ request, from, to }) => request.messages.slice(from, to)),
    );

    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const stall = setTimeout(
      () => this.trip(`the broker has not acknowledged a send for ${this.options.stallMs} ms`),
      this.options.stallMs,
    );
    const done = session
      .sendBatch(messages)
      .then((records) => {
        const written = acknowledgedOffsets(records, placements);
        this.observer.batchSent(count, bytes, elapsed());
        // Sends are sequential: the last part succeeding means every earlier part did.
        for (const request of recordWritten(slices, written)) answer(request);
      })
      .catch((error: unknown) => {
        this.observer.batchFailed(count, elapsed());
        const failure = this.unavailable(
          UNAVAILABLE_REASONS.broker,
          'the event broker did not accept the events',
          error,
        );
        for (const { request } of slices) fail(request, failure);
        this.trip('a send failed', error);
      })
      .finally(() => {
        clearTimeout(stall);
        this.budget.release(count, bytes);
        this.inFlight = undefined;
        // What queued during this send has waited at least a send's time: go at once.
        if (this.queue.length > 0) this.flush();
      });
    this.inFlight = { slices, done };
  }

  private clearLinger(): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  private unavailable(reason: UnavailableReason, message: string, cause?: unknown): IngestUnavailableError {
    return new IngestUnavailableError(reason, message, {
      retryAfterSeconds: this.options.retryAfterSeconds,
      cause,
    });
  }
}
