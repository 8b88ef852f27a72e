import { UnavailableError } from '@splitstream/shared';
import type { FastifyBaseLogger } from 'fastify';
import { Client, type Dispatcher, Pool } from 'undici';
import {
  BadGatewayError,
  classifyFailure,
  FAILURE_KINDS,
  type FailureKind,
  GatewayTimeoutError,
  isSafeToRetry,
} from './errors';
import type { UpstreamMetrics } from './metrics';

export interface UpstreamGroupOptions {
  name: string;
  urls: string[];
  connections: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  healthCheckIntervalMs: number;
  healthCheckTimeoutMs: number;
  ejectionThreshold: number;
  ejectionMinMs: number;
  unavailableRetryAfterSeconds: number;
  metrics: UpstreamMetrics;
  logger: FastifyBaseLogger;
}

export interface ForwardRequest {
  method: Dispatcher.HttpMethod;
  /** Path and query string, as the client sent them. */
  path: string;
  headers: Record<string, string | string[]>;
  body?: Buffer | undefined;
  /** Reads are idempotent: they may be replayed on another instance after a broken connection. */
  idempotent: boolean;
  logger?: FastifyBaseLogger;
}

export interface ForwardResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  /** Whole when small (one write to the client, and a read broken mid-body can be replayed); else streamed. */
  body: Buffer | Dispatcher.ResponseData['body'];
  instance: string;
}

/**
 * Answers declaring at most this length are read whole, then go out in one write with the headers
 * (socket writes led the profile of a proxied POST). Larger or unsized ones stream through.
 */
const WHOLE_BODY_MAX_BYTES = 64 * 1024;

// No content-length (NaN) is never small.
const isSmall = (headers: Dispatcher.ResponseData['headers']) =>
  Number(headers['content-length']) <= WHOLE_BODY_MAX_BYTES;

/** One upstream instance: its connection pool, a separate health-check connection and its state. */
export class UpstreamInstance {
  readonly pool: Pool;
  readonly healthClient: Client;
  pending = 0;
  ejected = false;
  ejectedAt = 0;
  consecutiveFailures = 0;
  /** Result of the last active health check; `unknown` until the first one finished. */
  health: 'unknown' | 'ok' | 'failed' = 'unknown';

  constructor(
    readonly url: string,
    options: UpstreamGroupOptions,
  ) {
    const clientOptions = {
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
    };
    this.pool = new Pool(url, { ...clientOptions, connections: options.connections });
    // Health checks get their own connection so a saturated pool cannot make a live instance look dead.
    this.healthClient = new Client(url, {
      connect: { timeout: options.healthCheckTimeoutMs },
      headersTimeout: options.healthCheckTimeoutMs,
      bodyTimeout: options.healthCheckTimeoutMs,
    });
  }
}

/**
 * The instances of one upstream service: least-pending balancing (round robin among equals),
 * passive ejection on transport failures, active /readyz checks that eject and readmit, and retry
 * on another instance only where that cannot repeat a write.
 */
export class UpstreamGroup {
  readonly name: string;
  readonly instances: UpstreamInstance[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly options: UpstreamGroupOptions) {
    this.name = options.name;
    this.instances = options.urls.map((url) => new UpstreamInstance(url, options));
    for (const instance of this.instances) this.setAvailable(instance, true);
  }

  /** Starts the periodic health checks; the first runs at once. */
  start(): void {
    const loop = async () => {
      await this.checkAll();
      if (!this.closed) this.timer = setTimeout(loop, this.options.healthCheckIntervalMs);
    };
    void loop();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.checking;
    await Promise.all(this.instances.flatMap((i) => [i.pool.close(), i.healthClient.close()]));
  }

  /** At least one instance is in rotation and passed its last health check. */
  isReady(): boolean {
    return this.instances.some((i) => !i.ejected && i.health === 'ok');
  }

  describe(): { url: string; available: boolean; health: string; pending: number }[] {
    return this.instances.map((i) => ({
      url: i.url,
      available: !i.ejected,
      health: i.health,
      pending: i.pending,
    }));
  }

  /** Least pending among available instances not yet tried; ties go round robin. */
  pick(exclude: ReadonlySet<UpstreamInstance> = new Set()): UpstreamInstance | undefined {
    const count = this.instances.length;
    let best: UpstreamInstance | undefined;
    const start = this.next;
    for (let k = 0; k < count; k++) {
      const instance = this.instances[(start + k) % count] as UpstreamInstance;
      if (instance.ejected || exclude.has(instance)) continue;
      if (!best || instance.pending < best.pending) best = instance;
    }
    this.next = (start + 1) % count;
    return best;
  }

  async forward(request: ForwardRequest): Promise<ForwardResponse> {
    const log = request.logger ?? this.options.logger;
    const tried = new Set<UpstreamInstance>();
    for (;;) {
      const instance = this.pick(tried);
      if (!instance) {
        // Nothing left to try: every instance is ejected or refused the connection.
        throw new UnavailableError(`no ${this.name} instance is available`, {
          retryAfterSeconds: this.options.unavailableRetryAfterSeconds,
        });
      }
      if (tried.size > 0) this.options.metrics.retries.inc({ upstream: this.name });
      tried.add(instance);
      try {
        return await this.send(instance, request);
      } catch (error) {
        const kind = classifyFailure(error);
        log.warn(
          { upstream: this.name, instance: instance.url, kind, err: error },
          'upstream request failed',
        );
        if (isSafeToRetry(kind, request.idempotent)) continue;
        if (kind === FAILURE_KINDS.timeout) {
          throw new GatewayTimeoutError(`${this.name} did not answer in time`, { cause: error });
        }
        throw new BadGatewayError(`${this.name} failed while handling the request`, { cause: error });
      }
    }
  }

  private async send(instance: UpstreamInstance, request: ForwardRequest): Promise<ForwardResponse> {
    const labels = { upstream: this.name, instance: instance.url };
    const started = process.hrtime.bigint();
    instance.pending++;
    this.options.metrics.pending.inc(labels);
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      instance.pending--;
      this.options.metrics.pending.dec(labels);
    };
    let response: Dispatcher.ResponseData;
    let whole: Buffer | undefined;
    try {
      response = await instance.pool.request({
        method: request.method,
        path: request.path,
        headers: request.headers,
        body: request.body ?? null,
        idempotent: request.idempotent,
      });
      // A body cut or stalled midway fails here like a request that broke (maybe-sent, timeout).
      if (isSmall(response.headers)) whole = Buffer.from(await response.body.arrayBuffer());
    } catch (error) {
      done();
      const kind = classifyFailure(error);
      this.options.metrics.requests.inc({ ...labels, outcome: 'error' });
      this.options.metrics.errors.inc({ ...labels, kind });
      this.recordFailure(instance, kind);
      throw error;
    }
    this.options.metrics.duration.observe(labels, Number(process.hrtime.bigint() - started) / 1e9);
    this.options.metrics.requests.inc({ ...labels, outcome: `${Math.floor(response.statusCode / 100)}xx` });
    instance.consecutiveFailures = 0;
    if (whole) done();
    else {
      // Pending until the body is through: a slow streaming response still occupies the instance.
      response.body.once('close', done);
      response.body.once('error', done);
      response.body.once('end', done);
    }
    return {
      statusCode: response.statusCode,
      headers: response.headers,
      body: whole ?? response.body,
      instance: instance.url,
    };
  }

  private recordFailure(instance: UpstreamInstance, kind: FailureKind): void {
    instance.consecutiveFailures++;
    // A refused connection is certain: the process is gone. Other failures may be one bad request.
    if (kind === FAILURE_KINDS.notSent) this.eject(instance, 'connection-refused');
    else if (instance.consecutiveFailures >= this.options.ejectionThreshold) this.eject(instance, 'failures');
  }

  private eject(instance: UpstreamInstance, reason: string): void {
    if (instance.ejected) return;
    instance.ejected = true;
    instance.ejectedAt = Date.now();
    this.setAvailable(instance, false);
    this.options.metrics.ejections.inc({ upstream: this.name, instance: instance.url, reason });
    this.options.logger.warn(
      { upstream: this.name, instance: instance.url, reason },
      'upstream instance ejected',
    );
  }

  private readmit(instance: UpstreamInstance): void {
    instance.ejected = false;
    instance.consecutiveFailures = 0;
    this.setAvailable(instance, true);
    this.options.metrics.readmissions.inc({ upstream: this.name, instance: instance.url });
    this.options.logger.info({ upstream: this.name, instance: instance.url }, 'upstream instance readmitted');
  }

  private setAvailable(instance: UpstreamInstance, available: boolean): void {
    this.options.metrics.available.set({ upstream: this.name, instance: instance.url }, available ? 1 : 0);
  }

  /** One round of active checks: GET /readyz on every instance. */
  async checkAll(): Promise<void> {
    if (this.checking) return this.checking;
    this.checking = Promise.all(this.instances.map((i) => this.check(i))).then(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async check(instance: UpstreamInstance): Promise<void> {
    let ok = false;
    let detail = '';
    try {
      const response = await instance.healthClient.request({
        method: 'GET',
        path: '/readyz',
        signal: AbortSignal.timeout(this.options.healthCheckTimeoutMs),
      });
      await response.body.dump();
      ok = response.statusCode === 200;
      detail = `status ${response.statusCode}`;
    } catch (error) {
      detail = (error as Error).message;
    }
    if (this.closed) return;
    const previous = instance.health;
    instance.health = ok ? 'ok' : 'failed';
    const labels = { upstream: this.name, instance: instance.url };
    this.options.metrics.healthChecks.inc({ ...labels, outcome: instance.health });
    if (previous !== instance.health) {
      this.options.logger.info({ ...labels, health: instance.health, detail }, 'upstream health changed');
    }
    if (!ok) this.eject(instance, 'health-check');
    else if (instance.ejected && Date.now() - instance.ejectedAt >= this.options.ejectionMinMs)
      this.readmit(instance);
  }
}
