import type { WrittenMessage } from './offsets';
import {
  bytesOf,
  completes,
  type OutgoingMessage,
  type PlannedRequest,
  planSend,
  type SendLimits,
  type Slice,
} from './send-planner';

/** One request between submit() and its answer. */
export interface PendingRequest extends PlannedRequest {
  readonly messages: readonly OutgoingMessage[];
  /** Messages handed to sends so far (a request larger than one send goes in parts). */
  sent: number;
  readonly written: WrittenMessage[];
  settled: boolean;
  resolve(written: WrittenMessage[]): void;
  reject(error: Error): void;
}

/** Settles a request once: later answers (a send that succeeds after a trip) are ignored. */
export function answer(request: PendingRequest): void {
  if (request.settled) return;
  request.settled = true;
  request.resolve(request.written);
}

export function fail(request: PendingRequest, error: Error): void {
  if (request.settled) return;
  request.settled = true;
  request.reject(error);
}

/**
 * Stores the offsets of one acknowledged send (`written`, in send order) in the requests of its
 * slices; returns the requests whose last message it carried.
 */
export function recordWritten(slices: readonly Slice<PendingRequest>[], written: readonly WrittenMessage[]) {
  const completed: PendingRequest[] = [];
  let at = 0;
  for (const slice of slices) {
    const { request, from, to } = slice;
    for (const [i, message] of written.slice(at, at + to - from).entries())
      request.written[from + i] = message;
    at += to - from;
    if (completes(slice)) completed.push(request);
  }
  return completed;
}

/** Requests waiting for a send, in arrival order, with the totals the linger decision reads. */
export class RequestQueue {
  private readonly requests: PendingRequest[] = [];
  private messages = 0;
  private bytes = 0;

  get length(): number {
    return this.requests.length;
  }

  push(request: PendingRequest, bytes: number): void {
    this.requests.push(request);
    this.messages += request.messages.length;
    this.bytes += bytes;
  }

  /** Enough waits for a full send: no reason to linger. */
  holdsFullBatch(limits: SendLimits): boolean {
    return this.messages >= limits.maxBatchMessages || this.bytes >= limits.maxBatchBytes;
  }

  /** Takes the next send (see planSend): whole requests leave; one sent in part stays at the head. */
  take(limits: SendLimits): Slice<PendingRequest>[] {
    const slices = planSend(this.requests, limits);
    for (const slice of slices) {
      slice.request.sent = slice.to;
      this.messages -= slice.to - slice.from;
      this.bytes -= slice.bytes;
    }
    this.requests.splice(0, slices.filter(completes).length);
    return slices;
  }

  /** Empties the queue: each request with the messages and bytes no send carried. */
  drain(): Array<{ request: PendingRequest; unsentMessages: number; unsentBytes: number }> {
    this.messages = 0;
    this.bytes = 0;
    return this.requests.splice(0).map((request) => ({
      request,
      unsentMessages: request.messages.length - request.sent,
      unsentBytes: bytesOf(request.messages, request.sent),
    }));
  }
}
