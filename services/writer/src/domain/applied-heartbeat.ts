/**
 * The writer's heartbeat (after pt-heartbeat): once an interval, whatever the traffic, every owned
 * partition whose offsets below the broker's high watermark are all stored gets "applied as of
 * now" on its checkpoint. The read side's staleness bound is now minus the oldest of those times
 * visible on the endpoint it read: it stays about one interval on an idle, caught-up system and
 * grows when the writer stops or falls behind (batches then move it, to their last event's time).
 */
export interface HeartbeatPorts {
  /** Last stored offset by partition (absent: nothing stored yet). */
  storedOffsets(topic: string): Promise<Map<number, string>>;
  /** The broker's high watermark by partition. */
  endOffsets(topic: string): Promise<Map<number, string>>;
  markApplied(topic: string, partitions: number[], asOf: Date): Promise<void>;
  /**
   * The partitions this instance owns now: only their checkpoints are its to write (the local store
   * writes a whole document back, so a mark beside another instance's checkpoint could undo it).
   */
  owned(topic: string): ReadonlySet<number>;
}

/** Partitions whose every offset below the high watermark is stored. */
export function caughtUpPartitions(stored: Map<number, string>, ends: Map<number, string>): number[] {
  return [...ends]
    .filter(([partition, end]) => BigInt(stored.get(partition) ?? '-1') + 1n >= BigInt(end))
    .map(([partition]) => partition);
}

/**
 * One heartbeat. The time is taken first, then what is stored is read, then the high watermarks:
 * an event acknowledged before that time is below the watermark the broker answers, and what was
 * stored before the watermark was asked for stays stored, so "applied as of" is never early.
 */
export async function beat(topic: string, ports: HeartbeatPorts, now: () => Date): Promise<number[]> {
  const asOf = now();
  const stored = await ports.storedOffsets(topic);
  const ends = await ports.endOffsets(topic);
  const owned = ports.owned(topic);
  const partitions = caughtUpPartitions(stored, ends).filter((partition) => owned.has(partition));
  if (partitions.length > 0) await ports.markApplied(topic, partitions, asOf);
  return partitions;
}
