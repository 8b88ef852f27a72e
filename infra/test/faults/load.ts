/**
 * Steady client traffic through the gateway, as the fault suite's client sees it: numbered writes
 * (singles and batches of ten, paced) and a read loop (one event by id, and the newest page), with
 * what every request got. Nothing is retried: a refused write is counted, never sent again, so a
 * duplicate in the store can only come from the pipeline itself.
 */
const SOURCE = '/faults/load';
const BATCH_SIZE = 10;
/** A request unanswered this long counts as failed (the gateway's own upstream bound is longer). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface Outcome {
  at: number;
  /** HTTP status, or the error's code or name for a request that got no answer. */
  what: string;
}

export interface LoadOptions {
  writers?: number;
  readers?: number;
  /** Each worker starts one request per period (or right after a slower answer). */
  periodMs?: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function errorName(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as Error).name ?? 'error';
}

export class Load {
  /** Event ids answered 202 (probes included). */
  readonly accepted = new Set<string>();
  readonly refused: Outcome[] = [];
  readonly readFailures: Outcome[] = [];
  writeRequests = 0;
  readRequests = 0;
  private readonly acceptedList: string[] = [];
  private next = 0;
  private probes = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly gatewayUrl: string,
    private readonly key: string,
    /** Prefix of every event id, so one scenario's events are told from another's. */
    private readonly prefix: string,
    private readonly options: LoadOptions = {},
  ) {}

  start(): void {
    const { writers = 4, readers = 2, periodMs = 200 } = this.options;
    this.running = true;
    for (let w = 0; w < writers; w++) this.loops.push(this.paced(periodMs, (k) => this.write((k + w) % 2)));
    for (let r = 0; r < readers; r++) this.loops.push(this.paced(periodMs, (k) => this.read((k + r) % 2)));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
  }

  /**
   * One fresh event end to end: accepted, then served back by a read that carries its token.
   * Resolves false when either step fails; the probe's own failures are not counted as the load's.
   */
  async probe(): Promise<boolean> {
    const id = `${this.prefix}-probe-${this.probes++}`;
    try {
      const posted = await this.call('/v1/events', { method: 'POST', body: JSON.stringify(this.event(id)) });
      if (posted.status !== 202) {
        await posted.text();
        return false;
      }
      const { token } = (await posted.json()) as { token: string };
      this.accept([id]);
      const read = await this.call(`/v1/events/${encodeURIComponent(id)}?after=${token}&maxWaitMs=3000`);
      await read.text();
      return read.status === 200;
    } catch {
      return false;
    }
  }

  private async paced(periodMs: number, request: (k: number) => Promise<void>): Promise<void> {
    for (let k = 0; this.running; k++) {
      const started = Date.now();
      await request(k);
      await sleep(Math.max(0, periodMs - (Date.now() - started)));
    }
  }

  private event(id: string) {
    return {
      specversion: '1.0',
      id,
      source: SOURCE,
      type: 'com.example.faults.loaded',
      subject: `s-${id.length % 8}`,
      data: { id },
    };
  }

  private call(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.gatewayUrl}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }

  private accept(ids: string[]): void {
    for (const id of ids) {
      this.accepted.add(id);
      this.acceptedList.push(id);
    }
  }

  private async write(batch: number): Promise<void> {
    const ids = Array.from({ length: batch ? BATCH_SIZE : 1 }, () => `${this.prefix}-${this.next++}`);
    const body = batch ? ids.map((id) => this.event(id)) : this.event(ids[0] as string);
    this.writeRequests++;
    try {
      const response = await this.call(batch ? '/v1/events/batch' : '/v1/events', {
        method: 'POST',
        body: JSON.stringify(body),
      });
      if (response.status === 202) {
        const answer = (await response.json()) as { id?: string; ids?: string[] };
        this.accept(answer.ids ?? (answer.id ? [answer.id] : []));
      } else {
        await response.text();
        this.refused.push({ at: Date.now(), what: String(response.status) });
      }
    } catch (error) {
      this.refused.push({ at: Date.now(), what: errorName(error) });
    }
  }

  /** 404 is an answer (an accepted event not stored or replicated yet); 5xx and no answer are failures. */
  private async read(list: number): Promise<void> {
    const id = this.acceptedList[Math.floor(Math.random() * this.acceptedList.length)];
    const path = list || !id ? '/v1/events?limit=20&order=desc' : `/v1/events/${encodeURIComponent(id)}`;
    this.readRequests++;
    try {
      const response = await this.call(path);
      await response.text();
      if (response.status !== 200 && response.status !== 404) {
        this.readFailures.push({ at: Date.now(), what: String(response.status) });
      }
    } catch (error) {
      this.readFailures.push({ at: Date.now(), what: errorName(error) });
    }
  }
}

/** "503×12, ECONNRESET×1": what a list of outcomes was made of. */
export function summarize(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  for (const { what } of outcomes) counts.set(what, (counts.get(what) ?? 0) + 1);
  return [...counts].map(([what, n]) => `${what}×${n}`).join(', ');
}
