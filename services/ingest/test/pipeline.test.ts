import { waitFor } from '@splitstream/shared/testing';
import type { FastifyBaseLogger } from 'fastify';
import type { Message, RecordMetadata } from 'kafkajs';
import { partitionFor } from '../src/domain/partitioning';
import { type PipelineOptions, ProducerPipeline, type ProducerSession } from '../src/domain/pipeline';
import { IngestUnavailableError } from '../src/errors';

/** A broker stand-in whose acknowledgements the test controls. */
class FakeSession implements ProducerSession {
  readonly partitions = 6;
  readonly sends: Message[][] = [];
  private readonly next = new Map<number, bigint>();
  private readonly waiting: Array<{
    messages: Message[];
    resolve(r: RecordMetadata[]): void;
    reject(e: Error): void;
  }> = [];
  disconnected = false;

  constructor(private readonly autoAck = true) {}

  sendBatch(messages: Message[]): Promise<RecordMetadata[]> {
    this.sends.push(messages);
    return new Promise((resolve, reject) => {
      this.waiting.push({ messages, resolve, reject });
      if (this.autoAck) setImmediate(() => this.ack());
    });
  }

  /** Acknowledges the oldest send like a broker: one baseOffset per partition. */
  ack(): void {
    const send = this.waiting.shift();
    if (!send) throw new Error('nothing to acknowledge');
    const counts = new Map<number, number>();
    for (const m of send.messages)
      counts.set(m.partition as number, (counts.get(m.partition as number) ?? 0) + 1);
    const records = [...counts].map(([partition, count]) => {
      const base = this.next.get(partition) ?? 0n;
      this.next.set(partition, base + BigInt(count));
      return { topicName: 't', partition, errorCode: 0, baseOffset: String(base) };
    });
    send.resolve(records);
  }

  fail(error = new Error('broker said no')): void {
    this.waiting.shift()?.reject(error);
  }

  get pending(): number {
    return this.waiting.length;
  }

  async disconnect(): Promise<void> {
    this.disconnected = true;
  }
}

const silentLog = { warn() {}, info() {}, error() {}, debug() {} } as unknown as FastifyBaseLogger;

const OPTIONS: PipelineOptions = {
  microbatch: true,
  lingerMs: 5,
  maxBatchMessages: 1000,
  maxBatchBytes: 1024 * 1024,
  maxPartitionBytes: 512 * 1024,
  maxInflightMessages: 1000,
  maxInflightBytes: 16 * 1024 * 1024,
  stallMs: 10_000,
  retryAfterSeconds: 1,
  recoveryInitialMs: 10,
  recoveryMaxMs: 20,
};

function msg(key: string, n = 0): Message {
  return { key, value: JSON.stringify({ n }) };
}

async function started(sessions: FakeSession[], options: Partial<PipelineOptions> = {}) {
  let opened = 0;
  const pipeline = new ProducerPipeline(
    async () => {
      const session = sessions[opened];
      if (!session) throw new Error('no broker');
      opened += 1;
      return session;
    },
    { ...OPTIONS, ...options },
    silentLog,
  );
  await pipeline.start();
  return { pipeline, opened: () => opened };
}

/** A pipeline whose first session acknowledges only when told, with a second one to recover onto. */
async function failingOver() {
  const first = new FakeSession(false);
  return { first, ...(await started([first, new FakeSession()], { lingerMs: 0 })) };
}

async function expectUnavailable(promise: Promise<unknown>, reason: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IngestUnavailableError);
  expect((error as IngestUnavailableError).status).toBe(503);
  expect((error as IngestUnavailableError).reason).toBe(reason);
}

describe('ProducerPipeline', () => {
  it('coalesces concurrent requests into one send and gives each message its own offset', async () => {
    const session = new FakeSession();
    const { pipeline } = await started([session]);
    const requests = [[msg('a', 1), msg('b', 1)], [msg('a', 2)], [msg('c', 1), msg('a', 3), msg('b', 2)]];
    const written = await Promise.all(requests.map((r) => pipeline.submit(r)));
    expect(session.sends).toHaveLength(1);
    // Offsets per partition follow arrival order across requests.
    const next = new Map<number, number>();
    const expected = requests.map((r) =>
      r.map((m) => {
        const partition = partitionFor(String(m.key), 6);
        const offset = next.get(partition) ?? 0;
        next.set(partition, offset + 1);
        return { partition, offset: String(offset) };
      }),
    );
    expect(written).toEqual(expected);
    const sent = session.sends[0] ?? [];
    expect(sent.map((m) => m.partition)).toEqual(sent.map((m) => partitionFor(String(m.key), 6)));
    await pipeline.close();
  });

  it('sends one request per send when micro-batching is off, and bounds a batch by messages', async () => {
    const off = new FakeSession();
    const unbatched = await started([off], { microbatch: false });
    await Promise.all([1, 2, 3].map((n) => unbatched.pipeline.submit([msg('k', n)])));
    expect(off.sends.map((s) => s.length)).toEqual([1, 1, 1]);
    await unbatched.pipeline.close();

    const bounded = new FakeSession();
    const small = await started([bounded], { maxBatchMessages: 3 });
    await Promise.all([1, 2, 3, 4, 5].map((n) => small.pipeline.submit([msg('k', n), msg('j', n)])));
    // Whole requests only: two 2-message requests would exceed 3, so each send carries one.
    expect(bounded.sends.map((s) => s.length)).toEqual([2, 2, 2, 2, 2]);
    await small.pipeline.close();
  });

  it('sends a request too large for one send in consecutive parts, answered once all are acknowledged', async () => {
    const session = new FakeSession(false);
    // ~1200 bytes per message: at most 3 of one partition per send.
    const { pipeline } = await started([session], { maxPartitionBytes: 4_000, lingerMs: 0 });
    const big = Array.from({ length: 8 }, (_, n) => ({ key: 'one-subject', value: 'x'.repeat(1_000 + n) }));
    let answered: unknown;
    const request = pipeline.submit(big).then((w) => {
      answered = w;
      return w;
    });
    const small = pipeline.submit([msg('one-subject', 99)]);
    await waitFor(() => session.pending === 1, { what: 'first part' });
    expect(session.sends[0]).toHaveLength(3);
    session.ack();
    await waitFor(() => session.pending === 1 && session.sends.length === 2, { what: 'second part' });
    expect(answered).toBeUndefined();
    session.ack();
    await waitFor(() => session.sends.length === 3, { what: 'third part' });
    // The last part shares its send with the next request, which fits whole.
    expect(session.sends.map((s) => s.length)).toEqual([3, 3, 3]);
    session.ack();
    const written = await request;
    expect(written.map((w) => w.offset)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    await expect(small).resolves.toEqual([{ partition: partitionFor('one-subject', 6), offset: '8' }]);
    await pipeline.close();
  });

  it('rejects a request in parts as a whole when a later part fails', async () => {
    const session = new FakeSession(false);
    const { pipeline } = await started([session, new FakeSession()], {
      maxPartitionBytes: 4_000,
      lingerMs: 0,
    });
    const big = Array.from({ length: 6 }, () => ({ key: 'one-subject', value: 'x'.repeat(1_000) }));
    const request = pipeline.submit(big);
    await waitFor(() => session.pending === 1, { what: 'first part' });
    session.ack();
    await waitFor(() => session.sends.length === 2 && session.pending === 1, { what: 'second part' });
    session.fail();
    await expectUnavailable(request, 'broker_unavailable');
    await waitFor(() => pipeline.state === 'ready', { what: 'recovery' });
    expect(pipeline.inflight).toEqual({ messages: 0, bytes: 0 });
    await pipeline.close();
  });

  it('answers 503 at once when the in-flight budget is full, and takes requests again once it drains', async () => {
    const session = new FakeSession(false);
    const { pipeline } = await started([session], { maxInflightMessages: 3, lingerMs: 0 });
    const first = pipeline.submit([msg('a'), msg('b')]);
    await expectUnavailable(pipeline.submit([msg('c'), msg('d')]), 'backpressure');
    expect(pipeline.inflight.messages).toBe(2);
    session.ack();
    await first;
    await waitFor(() => pipeline.inflight.messages === 0, { what: 'budget released' });
    const second = pipeline.submit([msg('c'), msg('d')]);
    session.ack();
    await expect(second).resolves.toHaveLength(2);
    await pipeline.close();
  });

  it('never acknowledges a failed send: 503 for its requests and for new ones until a fresh producer connects', async () => {
    const { first, pipeline, opened } = await failingOver();
    const pending = pipeline.submit([msg('a')]);
    first.fail();
    await expectUnavailable(pending, 'broker_unavailable');
    // The failed producer is discarded (its idempotence sequence is no longer trustworthy).
    await waitFor(() => pipeline.state === 'ready', { what: 'recovery' });
    expect(first.disconnected).toBe(true);
    expect(opened()).toBe(2);
    await expect(pipeline.submit([msg('a')])).resolves.toEqual([
      { partition: partitionFor('a', 6), offset: '0' },
    ]);
    await pipeline.close();
  });

  it('on a broker connection error answers every waiting request 503 at once, even if the send later succeeds', async () => {
    const { first, pipeline, opened } = await failingOver();
    const inFlight = pipeline.submit([msg('a')]);
    const queued = pipeline.submit([msg('b')]);
    pipeline.trip('socket error', new Error('ECONNRESET'));
    await expectUnavailable(inFlight, 'broker_unavailable');
    await expectUnavailable(queued, 'broker_unavailable');
    await expectUnavailable(pipeline.submit([msg('c')]), 'broker_unavailable');
    // Recovery waits for the old send to settle, so its messages cannot land after newer ones.
    expect(opened()).toBe(1);
    expect(pipeline.inflight.messages).toBe(1);
    first.ack();
    await waitFor(() => pipeline.state === 'ready', { what: 'recovery' });
    expect(opened()).toBe(2);
    expect(pipeline.inflight.messages).toBe(0);
    await pipeline.close();
  });

  it('treats a send that stalls past the bound as an outage', async () => {
    const first = new FakeSession(false);
    const { pipeline } = await started([first, new FakeSession()], { lingerMs: 0, stallMs: 50 });
    const started0 = Date.now();
    await expectUnavailable(pipeline.submit([msg('a')]), 'broker_unavailable');
    expect(Date.now() - started0).toBeLessThan(1_000);
    expect(pipeline.state).toBe('unavailable');
    first.fail();
    await waitFor(() => pipeline.state === 'ready', { what: 'recovery' });
    await pipeline.close();
  });

  it('starts unavailable when the broker is down and connects by itself later', async () => {
    let attempts = 0;
    const session = new FakeSession();
    const pipeline = new ProducerPipeline(
      async () => {
        attempts += 1;
        if (attempts < 3) throw new Error('ECONNREFUSED');
        return session;
      },
      OPTIONS,
      silentLog,
    );
    await pipeline.start();
    expect(pipeline.state).toBe('unavailable');
    await expectUnavailable(pipeline.submit([msg('a')]), 'broker_unavailable');
    await waitFor(() => pipeline.state === 'ready', { what: 'connection' });
    await expect(pipeline.submit([msg('a')])).resolves.toHaveLength(1);
    await pipeline.close();
  });

  it('on close sends what is queued, answers it, refuses new requests and disconnects', async () => {
    const session = new FakeSession();
    const { pipeline } = await started([session], { lingerMs: 50 });
    const queued = [pipeline.submit([msg('a')]), pipeline.submit([msg('b')])];
    const closing = pipeline.close();
    await expectUnavailable(pipeline.submit([msg('c')]), 'shutting_down');
    await closing;
    await expect(Promise.all(queued)).resolves.toHaveLength(2);
    expect(session.sends).toHaveLength(1);
    expect(session.disconnected).toBe(true);
    expect(pipeline.state).toBe('closed');
  });

  it('closes promptly while the broker is unavailable', async () => {
    const pipeline = new ProducerPipeline(
      async () => {
        throw new Error('ECONNREFUSED');
      },
      OPTIONS,
      silentLog,
    );
    await pipeline.start();
    await pipeline.close();
    expect(pipeline.state).toBe('closed');
  });
});
