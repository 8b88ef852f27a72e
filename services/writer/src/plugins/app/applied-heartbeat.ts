import { beat, type HeartbeatPorts } from '../../domain/applied-heartbeat';
import type { HandlerLog } from '../../domain/ports';

export interface HeartbeatObserver {
  heartbeat?(outcome: 'ok' | 'failed'): void;
}

export interface AppliedHeartbeatOptions {
  topic: string;
  intervalMs: number;
  ports: HeartbeatPorts;
  log: HandlerLog;
  observer: HeartbeatObserver;
}

/**
 * Runs the heartbeat once an interval until stopped; one beat at a time. A failing beat (broker or
 * store away) is counted and logged once when the failures start and once when they end: the
 * staleness the read side reports then grows, which is the truth.
 */
export function appliedHeartbeat({ topic, intervalMs, ports, log, observer }: AppliedHeartbeatOptions) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let failingSince: number | undefined;

  const once = async () => {
    try {
      await beat(topic, ports, () => new Date());
      observer.heartbeat?.('ok');
      if (failingSince !== undefined) {
        log.info({ topic, failedForMs: Date.now() - failingSince }, 'applied heartbeat recovered');
        failingSince = undefined;
      }
    } catch (error) {
      observer.heartbeat?.('failed');
      if (failingSince === undefined) {
        failingSince = Date.now();
        log.warn(
          { topic, err: error },
          'applied heartbeat failed: read-side staleness grows until it recovers',
        );
      }
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = once().finally(schedule);
    }, intervalMs);
  };

  return {
    start: schedule,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
