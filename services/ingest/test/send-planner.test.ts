import {
  bytesOf,
  messageBytes,
  type OutgoingMessage,
  planSend,
  type SendLimits,
} from '../src/domain/send-planner';

const LIMITS: SendLimits = {
  microbatch: true,
  maxBatchMessages: 10,
  maxBatchBytes: 10_000,
  maxPartitionBytes: 5_000,
};

/** A request of messages of the given sizes, all on `partition` unless given per message. */
function request(sizes: number[], partitions: number | number[] = 0, sent = 0) {
  const messages: OutgoingMessage[] = sizes.map((size, i) => ({
    message: { key: `k${i}`, value: 'v' },
    size,
    partition: Array.isArray(partitions) ? (partitions[i] ?? 0) : partitions,
  }));
  return { messages, sent };
}

const shape = (slices: ReturnType<typeof planSend>) => slices.map(({ from, to, bytes }) => [from, to, bytes]);

describe('planSend', () => {
  it('takes whole requests in arrival order while they fit', () => {
    const queue = [request([100, 100]), request([100]), request([100, 100, 100])];
    const slices = planSend(queue, LIMITS);
    expect(slices.map((s) => s.request)).toEqual(queue);
    expect(shape(slices)).toEqual([
      [0, 2, 200],
      [0, 1, 100],
      [0, 3, 300],
    ]);
  });

  it('takes one request per send without micro-batching', () => {
    const queue = [request([100]), request([100])];
    expect(planSend(queue, { ...LIMITS, microbatch: false }).map((s) => s.request)).toEqual([queue[0]]);
  });

  it('leaves a request that does not fit whole for the next send', () => {
    const queue = [request([100, 100]), request([100, 100])];
    expect(shape(planSend(queue, { ...LIMITS, maxBatchMessages: 3 }))).toEqual([[0, 2, 200]]);
    expect(shape(planSend(queue, { ...LIMITS, maxBatchBytes: 300 }))).toEqual([[0, 2, 200]]);
  });

  it('splits only the request that opens a send, by messages, bytes and bytes per partition', () => {
    expect(shape(planSend([request([100, 100, 100])], { ...LIMITS, maxBatchMessages: 2 }))).toEqual([
      [0, 2, 200],
    ]);
    expect(shape(planSend([request([4_000, 4_000, 4_000])], LIMITS))).toEqual([[0, 1, 4_000]]);
    // Two partitions: each holds 5,000 bytes, so the send carries four of the six messages.
    const spread = request([2_000, 2_000, 2_000, 2_000, 2_000, 2_000], [0, 1, 0, 1, 0, 1]);
    expect(shape(planSend([spread], LIMITS))).toEqual([[0, 4, 8_000]]);
  });

  it('goes on from where the previous part of a request ended', () => {
    const queue = [request([4_000, 4_000, 4_000], 0, 1), request([100], 1)];
    expect(shape(planSend(queue, LIMITS))).toEqual([[1, 2, 4_000]]);
    const last = [request([4_000, 4_000, 4_000], 0, 2), request([100], 1)];
    expect(shape(planSend(last, LIMITS))).toEqual([
      [2, 3, 4_000],
      [0, 1, 100],
    ]);
  });

  it('sends a message larger than every bound alone rather than never', () => {
    expect(shape(planSend([request([50_000]), request([100])], LIMITS))).toEqual([[0, 1, 50_000]]);
  });

  it('changes nothing it is given and plans nothing from an empty queue', () => {
    const queue = [request([100, 100])];
    const copy = structuredClone(queue);
    planSend(queue, LIMITS);
    expect(queue).toEqual(copy);
    expect(planSend([], LIMITS)).toEqual([]);
  });
});

describe('message sizes', () => {
  it('counts key and value bytes (UTF-8 or Buffer) plus a fixed record overhead', () => {
    const overhead = messageBytes({ key: null, value: null });
    expect(messageBytes({ key: 'é', value: Buffer.alloc(10) })).toBe(overhead + 2 + 10);
    expect(bytesOf(request([1, 2, 3]).messages)).toBe(6);
    expect(bytesOf(request([1, 2, 3]).messages, 1)).toBe(5);
  });
});
