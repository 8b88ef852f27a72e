import { type Checkpoint, type ConsistencyToken, STORE, UnavailableError } from '@splitstream/shared';
import type { StoreRead } from './store-read';

/** What an endpoint has applied of one topic: the writer's per-partition checkpoints. */
export interface CheckpointView {
  /** partition → last stored offset */
  offsets: Map<number, bigint>;
  /**
   * Every event accepted before this time is visible on the endpoint: the oldest `appliedAsOf` of
   * the partitions (their writer heartbeat or last batch), undefined before the writer wrote any.
   */
  appliedAsOf: Date | undefined;
}

export async function readCheckpoints({ db, maxTimeMS }: StoreRead, topic: string): Promise<CheckpointView> {
  const docs = await db
    .collection<Checkpoint>(STORE.collections.checkpoints)
    .find({ topic }, { projection: { partition: 1, offset: 1, updatedAt: 1, appliedAsOf: 1 }, maxTimeMS })
    .toArray();
  const offsets = new Map<number, bigint>();
  let appliedAsOf: Date | undefined;
  for (const doc of docs) {
    offsets.set(doc.partition, BigInt(doc.offset));
    // A checkpoint from before the heartbeat existed says only when its batch was stored.
    const applied = doc.appliedAsOf ?? doc.updatedAt;
    if (appliedAsOf === undefined || applied < appliedAsOf) appliedAsOf = applied;
  }
  return { offsets, appliedAsOf };
}

/** Milliseconds since `appliedAsOf`: how stale an answer of that endpoint can be at most. */
export function stalenessMs(appliedAsOf: Date, now = Date.now()): number {
  return Math.max(0, now - appliedAsOf.getTime());
}

export interface Shortfall {
  partition: number;
  required: string;
  applied: string | null;
}

/** Partitions whose checkpoint is still behind the token; empty when the token is satisfied. */
export function shortfalls(view: CheckpointView, token: ConsistencyToken): Shortfall[] {
  const behind: Shortfall[] = [];
  for (const [partition, offset] of Object.entries(token.offsets)) {
    const applied = view.offsets.get(Number(partition));
    if (applied === undefined || applied < BigInt(offset)) {
      behind.push({ partition: Number(partition), required: offset, applied: applied?.toString() ?? null });
    }
  }
  return behind;
}

/**
 * Single-flight, briefly cached checkpoint lookups for one endpoint: concurrent reads share one
 * query instead of each asking the store for the same few documents.
 */
export class CheckpointCache {
  private readonly entries = new Map<string, { at: number; view: Promise<CheckpointView> }>();

  constructor(private readonly read: StoreRead) {}

  get(topic: string, maxAgeMs: number): Promise<CheckpointView> {
    const now = Date.now();
    const entry = this.entries.get(topic);
    if (entry && now - entry.at <= maxAgeMs) return entry.view;
    const view = readCheckpoints(this.read, topic);
    const fresh = { at: now, view };
    this.entries.set(topic, fresh);
    view.catch(() => {
      if (this.entries.get(topic) === fresh) this.entries.delete(topic);
    });
    return view;
  }
}

/** A read-your-writes wait ran out of time: 503 + Retry-After (the class lets metrics tell it apart). */
export class ConsistencyTimeout extends UnavailableError {}

export interface WaitOptions {
  deadline: number;
  pollMs: number;
  maxWaitMs: number;
}

/**
 * Polls the endpoint's checkpoints until they cover the token, then returns them. Past the
 * deadline: 503 with Retry-After, never a silently stale answer.
 */
export async function waitForToken(
  lookup: () => Promise<CheckpointView>,
  token: ConsistencyToken,
  options: WaitOptions,
): Promise<CheckpointView> {
  for (;;) {
    const view = await lookup();
    const behind = shortfalls(view, token);
    if (behind.length === 0) return view;
    const remaining = options.deadline - Date.now();
    if (remaining <= 0) {
      const first = behind[0] as Shortfall;
      throw new ConsistencyTimeout(
        `the store has not applied the writes of this consistency token within maxWaitMs=${options.maxWaitMs} ` +
          `(partition ${first.partition}: applied ${first.applied ?? 'nothing'}, needs ${first.required}); retry later`,
        { retryAfterSeconds: 1, extensions: { partitionsBehind: behind } },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(options.pollMs, remaining)));
  }
}
