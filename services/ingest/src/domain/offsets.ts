import type { Message, RecordMetadata } from 'kafkajs';
import type { OutgoingMessage } from './send-planner';

/** Where one message of a request was written. Offsets are int64: decimal strings. */
export interface WrittenMessage {
  partition: number;
  offset: string;
}

/** One message's place in a send: its partition and its index in that partition's record batch. */
export interface Placement {
  readonly partition: number;
  readonly index: number;
}

/** What sendBatch gets, and where each of those messages sits in its partition's record batch. */
export interface SendLayout {
  readonly messages: Message[];
  readonly placements: Placement[];
}

/**
 * We place every message ourselves so we know its index within its partition's record batch
 * (kafkajs writes a partition's messages of one send as one batch, in order): its offset is that
 * partition's baseOffset plus the index.
 */
export function layOut(outgoing: Iterable<OutgoingMessage>): SendLayout {
  const messages: Message[] = [];
  const placements: Placement[] = [];
  const next = new Map<number, number>();
  for (const { message, partition } of outgoing) {
    const index = next.get(partition) ?? 0;
    next.set(partition, index + 1);
    messages.push({ ...message, partition });
    placements.push({ partition, index });
  }
  return { messages, placements };
}

/**
 * The offset of every placed message, from the broker's per-partition acknowledgements. Throws
 * when a partition the send wrote to has no baseOffset: those messages are not acknowledged.
 */
export function acknowledgedOffsets(
  records: readonly RecordMetadata[],
  placements: readonly Placement[],
): WrittenMessage[] {
  const base = new Map<number, bigint>();
  for (const record of records) {
    if (record.baseOffset !== undefined) base.set(record.partition, BigInt(record.baseOffset));
  }
  const missing = placements.find(({ partition }) => !base.has(partition));
  if (missing) throw new Error(`no acknowledgement for partition ${missing.partition}`);
  return placements.map(({ partition, index }) => ({
    partition,
    offset: String((base.get(partition) ?? 0n) + BigInt(index)),
  }));
}
