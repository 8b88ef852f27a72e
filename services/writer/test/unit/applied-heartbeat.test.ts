import { beat, caughtUpPartitions, type HeartbeatPorts } from '../../src/domain/applied-heartbeat';
import { appliedHeartbeat } from '../../src/plugins/app/applied-heartbeat';

const map = (entries: Record<number, string>) =>
  new Map(Object.entries(entries).map(([p, o]) => [Number(p), o]));

/** Resolves once `condition` holds, checked every 5 ms; fails the test past 5 s. */
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('applied heartbeat', () => {
  it('marks only the partitions whose every offset below the high watermark is stored', () => {
    const stored = map({ 0: '9', 1: '4', 3: '7' });
    // 0: caught up; 1: behind; 2: empty, nothing stored; 3: stored past a watermark read earlier; 4: behind, nothing stored.
    const ends = map({ 0: '10', 1: '9', 2: '0', 3: '5', 4: '1' });
    expect(caughtUpPartitions(stored, ends)).toEqual([0, 2, 3]);
  });

  it('takes the time before reading what is stored, and reads that before the watermarks', async () => {
    const calls: string[] = [];
    const ports: HeartbeatPorts = {
      storedOffsets: async () => {
        calls.push('stored');
        return map({ 0: '4' });
      },
      endOffsets: async () => {
        calls.push('ends');
        return map({ 0: '5', 1: '3' });
      },
      markApplied: async (_topic, partitions, asOf) => {
        calls.push(`mark:${partitions.join(',')}@${asOf.toISOString()}`);
      },
      owned: () => new Set([0, 1]),
    };
    const now = () => {
      calls.push('now');
      return new Date('2026-12-02T10:00:00.000Z');
    };
    expect(await beat('events', ports, now)).toEqual([0]);
    expect(calls).toEqual(['now', 'stored', 'ends', 'mark:0@2026-12-02T10:00:00.000Z']);
  });

  it('marks only the partitions this instance owns', async () => {
    const markApplied = jest.fn();
    const ports: HeartbeatPorts = {
      storedOffsets: async () => map({ 0: '4', 1: '2', 2: '6' }),
      endOffsets: async () => map({ 0: '5', 1: '3', 2: '7' }),
      markApplied,
      owned: () => new Set([0, 2]),
    };
    expect(await beat('events', ports, () => new Date())).toEqual([0, 2]);
    expect(markApplied).toHaveBeenCalledWith('events', [0, 2], expect.any(Date));
  });

  it('writes nothing when no partition is caught up', async () => {
    const markApplied = jest.fn();
    const ports = {
      storedOffsets: async () => map({}),
      endOffsets: async () => map({ 0: '3' }),
      markApplied,
      owned: () => new Set([0]),
    };
    expect(await beat('events', ports, () => new Date())).toEqual([]);
    expect(markApplied).not.toHaveBeenCalled();
  });

  it('beats once an interval, counts failures and logs once when they start and once when they end', async () => {
    const outcomes: string[] = [];
    const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
    let failing = true;
    const ports: HeartbeatPorts = {
      storedOffsets: async () => {
        if (failing) throw new Error('store unreachable');
        return map({ 0: '0' });
      },
      endOffsets: async () => map({ 0: '1' }),
      markApplied: async () => {},
      owned: () => new Set([0]),
    };
    const heartbeat = appliedHeartbeat({
      topic: 'events',
      intervalMs: 20,
      ports,
      log,
      observer: { heartbeat: (outcome) => outcomes.push(outcome) },
    });
    heartbeat.start();
    // Conditions, not sleeps: on a loaded machine a 20 ms timer can fire far apart.
    await until(() => outcomes.filter((o) => o === 'failed').length >= 3);
    failing = false;
    await until(() => outcomes.at(-1) === 'ok');
    await heartbeat.stop();
    const after = outcomes.length;
    await new Promise((resolve) => setTimeout(resolve, 100));

    expect(outcomes.length).toBe(after); // stopped: no more beats
    expect(outcomes.filter((o) => o === 'failed').length).toBeGreaterThanOrEqual(3);
    expect(outcomes.at(-1)).toBe('ok');
    expect(log.warn).toHaveBeenCalledTimes(1);
    expect(log.warn.mock.calls[0]?.[1]).toMatch(/applied heartbeat failed/);
    expect(log.info).toHaveBeenCalledTimes(1);
    expect(log.info.mock.calls[0]?.[1]).toMatch(/recovered/);
  });
});
