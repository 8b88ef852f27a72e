/** Endpoints of the shared infrastructure, unique names, waiting, topics, a cuttable TCP proxy, cleanup. */
import { randomBytes } from 'node:crypto';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import type { Admin } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { splitList } from '../config';
import { STORE } from '../store';

/** Endpoints of the shared local infrastructure (`npm run infra:up`), overridable by environment. */
export function testInfra() {
  return {
    brokers: splitList(process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'),
    writeUri:
      process.env.MONGO_WRITE_URI ?? 'mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false',
    readUri:
      process.env.MONGO_READ_URI ?? 'mongodb://127.0.0.1:27018/?directConnection=true&retryWrites=false',
  };
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Polls until `condition` returns a truthy value, and returns it; fails after `timeoutMs`. */
export async function waitFor<T>(
  condition: () => Promise<T> | T,
  {
    timeoutMs = 20_000,
    intervalMs = 50,
    what = 'condition',
  }: { timeoutMs?: number; intervalMs?: number; what?: string | (() => string) } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      // `what` as a function is read at the deadline (a child's output by then, say).
      const described = typeof what === 'function' ? what() : what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${described}`, { cause: lastError });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function createTestTopic(admin: Admin, prefix: string, numPartitions = 3): Promise<string> {
  const topic = uniqueName(prefix);
  await createServedTopics(admin, [{ topic, numPartitions }]);
  return topic;
}

/**
 * Creates the topics and resolves once the broker serves every partition of each. The KRaft
 * controller answers CreateTopics as soon as it committed them; the broker applies that a moment
 * later, and later still on a loaded machine. Until then a metadata request answers
 * UNKNOWN_TOPIC_OR_PARTITION, which kafkajs's own `waitForLeaders` does not retry (it throws), and
 * for a while after the leader shows up, list-offsets and produce answer NOT_LEADER_FOR_PARTITION.
 */
export async function createServedTopics(
  admin: Admin,
  topics: { topic: string; numPartitions: number }[],
  { timeoutMs = 30_000 } = {},
): Promise<void> {
  await admin.createTopics({
    topics: topics.map(({ topic, numPartitions }) => ({ topic, numPartitions, replicationFactor: 1 })),
    waitForLeaders: false,
  });
  for (const { topic, numPartitions } of topics) {
    await waitFor(
      async () => {
        const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
        const partitions = metadata.topics[0]?.partitions ?? [];
        if (partitions.length !== numPartitions || partitions.some((p) => p.leader < 0)) return false;
        // The leader is known; this answers only once it also serves the partitions.
        await admin.fetchTopicOffsets(topic);
        return true;
      },
      {
        timeoutMs,
        intervalMs: 100,
        what: `a serving leader for each of the ${numPartitions} partitions of ${topic}`,
      },
    );
  }
}

/**
 * A TCP proxy on port 0 in front of a real dependency, so one test can take "its" broker or store
 * away (`cut`: open connections reset, new ones refused) and bring it back (`restore`) without
 * touching the infrastructure other suites share.
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private frozen = false;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(port = this.port): Promise<this> {
    const server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
      // After pipe, which starts the flow.
      if (this.frozen) for (const socket of [client, upstream]) socket.pause();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Resets every open connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.resetAndDestroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Stops forwarding on every connection, open or new, and keeps them open: an endpoint that
   * accepts and then never answers, which only a time bound ends.
   */
  freeze(): void {
    this.frozen = true;
    for (const socket of this.sockets) socket.pause();
  }

  /** Forwards again what froze meanwhile. */
  thaw(): void {
    this.frozen = false;
    for (const socket of this.sockets) socket.resume();
  }

  /** Accepts connections again, on the same port. */
  async restore(): Promise<void> {
    await this.start(this.port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}

/**
 * Deletes what a test stored in the shared store: events and dead letters of its tenants (one
 * equality filter each, which the local store serves from an index) and checkpoints of its topics.
 * Leftovers would not break other tests (they use their own tenants) but would slow every scan.
 */
export async function removeTestData(
  writeUri: string,
  { tenants = [], topics = [] }: { tenants?: string[]; topics?: string[] },
): Promise<void> {
  const client = await new MongoClient(writeUri, { serverSelectionTimeoutMS: 5_000 }).connect();
  try {
    const db = client.db(STORE.database);
    for (const tenant of tenants) {
      await db.collection(STORE.collections.events).deleteMany({ tenant });
      await db.collection(STORE.collections.deadLetters).deleteMany({ tenant });
    }
    for (const topic of topics) await db.collection(STORE.collections.checkpoints).deleteMany({ topic });
  } finally {
    await client.close();
  }
}
