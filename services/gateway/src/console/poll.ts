import { useEffect } from 'preact/hooks';

/** How often the console asks for what changed. */
export const POLL_MS = 1000;

/** Runs `task` now and then every `intervalMs` after the previous run ended, until unmounted or deps change. */
export function usePoll(task: () => Promise<void>, intervalMs: number, deps: unknown[]) {
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      try {
        await task();
      } finally {
        if (!stopped) timer = setTimeout(run, intervalMs);
      }
    };
    void run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, deps);
}
