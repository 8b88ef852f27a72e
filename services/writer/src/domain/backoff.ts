/**
 * Exponential backoff with jitter: attempt 1 waits about `baseMs`, each next attempt up to
 * twice as long, never more than `maxMs`; each delay is drawn between half and all of that ceiling
 * so several writers do not retry in step.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
) {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.max(1, Math.round(ceiling * (0.5 + random() / 2)));
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
