import { answer, fail, type PendingRequest, RequestQueue, recordWritten } from '../src/domain/request-queue';
import type { SendLimits } from '../src/domain/send-planner';

const LIMITS: SendLimits = {
  microbatch: true,
  maxBatchMessages: 3,
  maxBatchBytes: 10_000,
  maxPartitionBytes: 10_000,
};

function pending(count: number, outcomes: unknown[] = []): PendingRequest {
  return {
    messages: Array.from({ length: count }, () => ({
      message: { key: 'k', value: 'v' },
      size: 10,
      partition: 0,
    })),
    sent: 0,
    written: [],
    settled: false,
    resolve: (written) => outcomes.push(written),
    reject: (error) => outcomes.push(error),
  };
}

describe('RequestQueue', () => {
  it('hands out sends, keeps a request sent in part at its head, and knows when a batch is full', () => {
    const queue = new RequestQueue();
    const first = pending(2);
    const second = pending(2);
    queue.push(first, 20);
    expect(queue.holdsFullBatch(LIMITS)).toBe(false);
    queue.push(second, 20);
    expect(queue.holdsFullBatch(LIMITS)).toBe(true);
    expect(queue.take(LIMITS).map((s) => [s.request === first, s.from, s.to])).toEqual([[true, 0, 2]]);
    expect(queue.length).toBe(1);
    expect(queue.take({ ...LIMITS, maxBatchMessages: 1 }).map((s) => [s.from, s.to])).toEqual([[0, 1]]);
    expect(second.sent).toBe(1);
    expect(queue.length).toBe(1);
    expect(queue.drain()).toEqual([{ request: second, unsentMessages: 1, unsentBytes: 10 }]);
    expect(queue.length).toBe(0);
    expect(queue.holdsFullBatch(LIMITS)).toBe(false);
  });

  it('settles a request once', () => {
    const outcomes: unknown[] = [];
    const request = pending(1, outcomes);
    const error = new Error('gone');
    fail(request, error);
    answer(request);
    fail(request, new Error('again'));
    expect(outcomes).toEqual([error]);
  });

  it('records the offsets of a send in its requests and names the requests it completed', () => {
    const partial = pending(3);
    partial.written.push({ partition: 0, offset: '1' });
    const whole = pending(1);
    const slices = [
      { request: partial, from: 1, to: 3, bytes: 20 },
      { request: whole, from: 0, to: 1, bytes: 10 },
    ];
    const at = (offset: string) => ({ partition: 0, offset });
    expect(recordWritten(slices, [at('2'), at('3'), at('4')])).toEqual([partial, whole]);
    expect(partial.written).toEqual([at('1'), at('2'), at('3')]);
    expect(whole.written).toEqual([at('4')]);
    expect(recordWritten([{ request: pending(2), from: 0, to: 1, bytes: 10 }], [at('5')])).toEqual([]);
  });
});
