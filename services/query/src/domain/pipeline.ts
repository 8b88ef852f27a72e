import { type PipelineFigures, STORE, type StoredEvent } from '@splitstream/shared';
import type { StoreRead } from './store-read';

/** Bounds of one pipeline answer: the window, the bucket width, and how many stored events it reads. */
export const PIPELINE_LIMITS = Object.freeze({
  minWindowSeconds: 10,
  maxWindowSeconds: 600,
  defaultWindowSeconds: 120,
  minStepSeconds: 1,
  maxStepSeconds: 60,
  defaultStepSeconds: 5,
  /** At most this many buckets: a smaller step over a long window is widened to fit. */
  maxBuckets: 120,
  /** At most this many stored events are read per answer (newest first by storage, then the rest is `sampled`). */
  maxEvents: 20_000,
});

export interface PipelineQuery {
  tenant: string;
  /** End of the window (now). */
  until: Date;
  windowSeconds: number;
  stepSeconds: number;
}

/** The bucket width used: the one asked for, widened so the window has at most maxBuckets buckets. */
export function effectiveStep(windowSeconds: number, stepSeconds: number): number {
  return Math.max(stepSeconds, Math.ceil(windowSeconds / PIPELINE_LIMITS.maxBuckets));
}

/** Nearest-rank percentile of sorted values; null for none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/**
 * Reads answered per tenant by this query instance, in one-second slots over the longest window
 * (memory per tenant is bounded by the slots; tenants idle for a whole window are dropped).
 */
export class ReadCounter {
  private readonly slots = new Map<string, Map<number, number>>();

  constructor(private readonly keepSeconds: number = PIPELINE_LIMITS.maxWindowSeconds) {}

  count(tenant: string, at = Date.now()): void {
    const second = Math.floor(at / 1000);
    let slots = this.slots.get(tenant);
    if (!slots) {
      slots = new Map();
      this.slots.set(tenant, slots);
    }
    slots.set(second, (slots.get(second) ?? 0) + 1);
    if (slots.size > this.keepSeconds) this.prune(slots, second);
  }

  /** Reads of `tenant` per slot second in [since, until). */
  between(tenant: string, since: number, until: number): Map<number, number> {
    const slots = this.slots.get(tenant);
    const result = new Map<number, number>();
    if (!slots) return result;
    this.prune(slots, Math.floor(until / 1000));
    if (slots.size === 0) this.slots.delete(tenant);
    for (const [second, n] of slots) {
      const ms = second * 1000;
      if (ms >= since && ms < until) result.set(second, n);
    }
    return result;
  }

  private prune(slots: Map<number, number>, nowSecond: number): void {
    for (const second of slots.keys()) if (second <= nowSecond - this.keepSeconds) slots.delete(second);
  }
}

/**
 * The tenant's pipeline over the window ending at `until`, from its stored events: accepted
 * (receivedAt) and stored (storedAt) per second, receivedAt → storedAt latency, per bucket and over
 * the window. An event stored within the window has storedAt ≥ since, and so does every one received
 * in it that is readable, so one filter on storedAt finds both. Bounded: at most maxEvents documents,
 * two dates each, under the read's maxTimeMS.
 */
export async function computePipeline(
  { db, maxTimeMS }: StoreRead,
  query: PipelineQuery,
  reads: ReadCounter,
): Promise<PipelineFigures> {
  const step = effectiveStep(query.windowSeconds, query.stepSeconds);
  const untilMs = query.until.getTime();
  const sinceMs = untilMs - query.windowSeconds * 1000;
  const docs = await db
    .collection<StoredEvent>(STORE.collections.events)
    .find(
      { tenant: query.tenant, storedAt: { $gte: new Date(sinceMs), $lt: query.until } },
      { projection: { _id: 0, receivedAt: 1, storedAt: 1 }, limit: PIPELINE_LIMITS.maxEvents + 1, maxTimeMS },
    )
    .toArray();
  const sampled = docs.length > PIPELINE_LIMITS.maxEvents;
  const used = sampled ? docs.slice(0, PIPELINE_LIMITS.maxEvents) : docs;

  const bucketCount = Math.ceil(query.windowSeconds / step);
  const firstStart = untilMs - bucketCount * step * 1000;
  const bucketOf = (ms: number) => Math.floor((ms - firstStart) / (step * 1000));
  const accepted = new Array<number>(bucketCount).fill(0);
  const stored = new Array<number>(bucketCount).fill(0);
  const readsIn = new Array<number>(bucketCount).fill(0);
  const latencies: number[][] = Array.from({ length: bucketCount }, () => []);
  const all: number[] = [];
  let acceptedTotal = 0;
  for (const doc of used) {
    const received = doc.receivedAt.getTime();
    const storedAt = doc.storedAt.getTime();
    const latency = Math.max(0, storedAt - received);
    const s = bucketOf(storedAt);
    if (s >= 0 && s < bucketCount) {
      stored[s] = (stored[s] as number) + 1;
      (latencies[s] as number[]).push(latency);
    }
    all.push(latency);
    if (received >= sinceMs) {
      acceptedTotal += 1;
      const a = bucketOf(received);
      if (a >= 0 && a < bucketCount) accepted[a] = (accepted[a] as number) + 1;
    }
  }
  let readsTotal = 0;
  for (const [second, n] of reads.between(query.tenant, sinceMs, untilMs)) {
    readsTotal += n;
    const r = bucketOf(second * 1000);
    if (r >= 0 && r < bucketCount) readsIn[r] = (readsIn[r] as number) + n;
  }
  all.sort((a, b) => a - b);
  const perSecond = (n: number) => Math.round((n / query.windowSeconds) * 1000) / 1000;
  return {
    since: new Date(sinceMs).toISOString(),
    until: query.until.toISOString(),
    windowSeconds: query.windowSeconds,
    stepSeconds: step,
    acceptedPerSecond: perSecond(acceptedTotal),
    storedPerSecond: perSecond(used.length),
    readsPerSecond: perSecond(readsTotal),
    latencyMs: { p50: percentile(all, 50), p99: percentile(all, 99), max: all.at(-1) ?? null },
    sampled,
    buckets: latencies.map((values, i) => {
      values.sort((a, b) => a - b);
      return {
        start: new Date(firstStart + i * step * 1000).toISOString(),
        accepted: accepted[i] as number,
        stored: stored[i] as number,
        reads: readsIn[i] as number,
        latencyP50Ms: percentile(values, 50),
        latencyP99Ms: percentile(values, 99),
      };
    }),
  };
}
