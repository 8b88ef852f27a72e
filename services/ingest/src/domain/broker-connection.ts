import { type NameOf, namesOf } from '@splitstream/shared';
import type { Message, RecordMetadata } from 'kafkajs';

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

/** The little of a logger the domain uses (Fastify's pino logger is one). */
export interface DomainLogger {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
}

export const PIPELINE_STATES = namesOf('unavailable', 'ready', 'closing', 'closed');
export type PipelineState = NameOf<typeof PIPELINE_STATES>;

export interface RecoveryOptions {
  recoveryInitialMs?: number;
  recoveryMaxMs?: number;
}

export interface ConnectionHooks {
  stateChanged(state: PipelineState): void;
  /** The send under way, if any: a new session opens only once it settled. */
  inFlight(): Promise<void> | undefined;
}

const DEFAULT_RECOVERY_INITIAL_MS = 100;
const DEFAULT_RECOVERY_MAX_MS = 1_000;

/**
 * The breaker in front of the broker: which session sends may use, and whether requests are taken
 * (ready), refused at once (unavailable, while it reconnects by itself with backoff), or drained
 * (closing, then closed).
 */
export class BrokerConnection {
  private stateValue: PipelineState = PIPELINE_STATES.unavailable;
  private current: ProducerSession | undefined;
  private recovering: Promise<void> | undefined;
  private recoverySleep: { wake(): void } | undefined;

  constructor(
    private readonly openSession: OpenSession,
    private readonly options: RecoveryOptions,
    private readonly log: DomainLogger,
    private readonly hooks: ConnectionHooks,
  ) {}

  get state(): PipelineState {
    return this.stateValue;
  }

  /** The session a send may use: connected, or draining on close. */
  get sendingSession(): ProducerSession | undefined {
    const sending = this.stateValue === PIPELINE_STATES.ready || this.stateValue === PIPELINE_STATES.closing;
    return sending ? this.current : undefined;
  }

  /** Opens the first session; resolves after the first attempt either way (later attempts run in the background). */
  start(): Promise<void> {
    return new Promise<void>((firstAttempt) => this.recover(firstAttempt));
  }

  /**
   * The broker looks gone: unavailable until a fresh session connects. `answerWaiting` runs in
   * between (after new requests are refused, before reconnecting); while closing only it runs.
   */
  trip(reason: string, error: unknown, answerWaiting: () => void): void {
    if (this.stateValue !== PIPELINE_STATES.ready && this.stateValue !== PIPELINE_STATES.closing) return;
    const closing = this.stateValue === PIPELINE_STATES.closing;
    this.log.warn({ err: error, reason }, 'event broker unavailable: answering 503 until it is back');
    if (!closing) this.setState(PIPELINE_STATES.unavailable);
    answerWaiting();
    if (!closing) this.recover();
  }

  /** Refuses from now on and stops reconnecting; resolves once no connection attempt is under way. */
  async beginClose(): Promise<void> {
    if (this.stateValue !== PIPELINE_STATES.closing) this.setState(PIPELINE_STATES.closing);
    this.recoverySleep?.wake();
    await this.recovering;
  }

  /** Closed: the session (if any) is disconnected. */
  async finishClose(): Promise<void> {
    const session = this.current;
    this.current = undefined;
    this.setState(PIPELINE_STATES.closed);
    if (session) await this.disconnect(session);
  }

  /** Opens a fresh session, retrying with backoff while unavailable. */
  private recover(firstAttempt?: () => void): void {
    if (this.recovering) {
      firstAttempt?.();
      return;
    }
    this.recovering = (async () => {
      // Let the failed send settle first: its messages must not land after newer ones of the same key.
      for (let sending = this.hooks.inFlight(); sending; sending = this.hooks.inFlight()) await sending;
      const old = this.current;
      this.current = undefined;
      if (old) await this.disconnect(old);
      let delay = this.options.recoveryInitialMs ?? DEFAULT_RECOVERY_INITIAL_MS;
      while (this.stateValue === PIPELINE_STATES.unavailable) {
        try {
          const session = await this.openSession();
          if (this.stateValue !== PIPELINE_STATES.unavailable) {
            await this.disconnect(session);
            break;
          }
          this.current = session;
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
      this.recoverySleep = { wake };
    });
  }

  private async disconnect(session: ProducerSession): Promise<void> {
    try {
      await session.disconnect();
    } catch (error) {
      this.log.warn({ err: error }, 'producer disconnect failed');
    }
  }

  private setState(state: PipelineState): void {
    this.stateValue = state;
    this.hooks.stateChanged(state);
  }
}
