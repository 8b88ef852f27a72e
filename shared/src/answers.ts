/**
 * The shapes of public answers that clients of the API read (the console, the operator CLI) and that
 * a service builds: one definition each, next to the route contracts. The route schemas document them.
 */

/** One bucket of GET /v1/pipeline. */
export interface PipelineBucket {
  start: string;
  accepted: number;
  stored: number;
  reads: number;
  /** receivedAt → storedAt of the events stored in the bucket; null when none was. */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
}

/** The answer of GET /v1/pipeline: the tenant's pipeline figures over a window ending now. */
export interface PipelineFigures {
  since: string;
  until: string;
  windowSeconds: number;
  stepSeconds: number;
  acceptedPerSecond: number;
  storedPerSecond: number;
  readsPerSecond: number;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  /** True when the window held more stored events than one answer reads: the figures are a lower bound. */
  sampled: boolean;
  buckets: PipelineBucket[];
}

/** The answer of POST /v1/deadletters/replay (a dry run has no token). */
export interface ReplayAnswer {
  dryRun: boolean;
  matched: number;
  replayed: number;
  ids: string[];
  skipped: { deadLetterId: string; id?: string; reason: string }[];
  alreadyReplayed: number;
  nextCursor: string | null;
  token?: string;
}
