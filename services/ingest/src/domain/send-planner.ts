import type { Message } from 'kafkajs';

/** Record overhead beyond key and value (three headers, varints, attributes): a generous estimate. */
const MESSAGE_OVERHEAD_BYTES = 160;

/** One message of a request, with what the planner needs to place it. */
export interface OutgoingMessage {
  readonly message: Message;
  /** Estimated size on the wire. */
  readonly size: number;
  /** Fixed when the request is taken, so every part of a request in parts lands where the first did. */
  readonly partition: number;
}

/** A queued request as the planner sees it: its messages and how many of them earlier sends carried. */
export interface PlannedRequest {
  readonly messages: readonly OutgoingMessage[];
  readonly sent: number;
}

export interface SendLimits {
  /** false: one request per send (still one send at a time), the baseline the micro-batcher is measured against. */
  readonly microbatch: boolean;
  readonly maxBatchMessages: number;
  readonly maxBatchBytes: number;
  /**
   * Bytes for one partition in one send. kafkajs writes all of a partition's messages of a send as
   * one record batch, which the broker refuses above message.max.bytes (1 MiB by default): a request
   * with more than this for one partition is sent in consecutive parts.
   */
  readonly maxPartitionBytes: number;
}

/** Messages [from, to) of one request, in one send. */
export interface Slice<R extends PlannedRequest = PlannedRequest> {
  readonly request: R;
  readonly from: number;
  readonly to: number;
  readonly bytes: number;
}

export function messageBytes(message: Message): number {
  const size = (v: Message['key'] | Message['value']) =>
    v == null ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  return size(message.key) + size(message.value) + MESSAGE_OVERHEAD_BYTES;
}

/** Bytes of messages [from, to) of a request. */
export function bytesOf(
  messages: readonly { readonly size: number }[],
  from = 0,
  to = messages.length,
): number {
  let bytes = 0;
  for (const { size } of messages.slice(from, to)) bytes += size;
  return bytes;
}

/** True when the slice carries the last message of its request. */
export function completes(slice: Slice): boolean {
  return slice.to === slice.request.messages.length;
}

/**
 * The next send from the head of `queue`: whole requests in arrival order within the limits; a
 * request that does not fit alone goes first and only in part (the caller keeps the rest at the
 * head of the queue for the next send). Reads nothing but its arguments and changes none of them.
 */
export function planSend<R extends PlannedRequest>(queue: readonly R[], limits: SendLimits): Slice<R>[] {
  const slices: Slice<R>[] = [];
  const perPartition = new Map<number, number>();
  let count = 0;
  let bytes = 0;
  for (const request of queue) {
    const from = request.sent;
    let to = from;
    let sliceBytes = 0;
    const sliceByPartition = new Map<number, number>();
    for (const { size, partition } of request.messages.slice(from)) {
      const partitionBytes = (perPartition.get(partition) ?? 0) + (sliceByPartition.get(partition) ?? 0);
      const fits =
        count + (to - from) + 1 <= limits.maxBatchMessages &&
        bytes + sliceBytes + size <= limits.maxBatchBytes &&
        partitionBytes + size <= limits.maxPartitionBytes;
      // A send carries at least one message, whatever its size.
      if (!fits && (slices.length > 0 || to > from)) break;
      sliceByPartition.set(partition, (sliceByPartition.get(partition) ?? 0) + size);
      sliceBytes += size;
      to += 1;
    }
    const whole = to === request.messages.length;
    // Split only the request that opens a send; any other one waits for the next send entire.
    if (to === from || (!whole && slices.length > 0)) break;
    slices.push({ request, from, to, bytes: sliceBytes });
    count += to - from;
    bytes += sliceBytes;
    for (const [p, b] of sliceByPartition) perPartition.set(p, (perPartition.get(p) ?? 0) + b);
    if (!whole || !limits.microbatch) break;
  }
  return slices;
}
