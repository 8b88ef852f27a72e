/** Hand-built kafkajs batches and fakes for the batch handler's unit tests. */
import { type CloudEvent, toKafkaMessage } from '@splitstream/shared';
import type { EachBatchPayload, IHeaders, KafkaMessage } from 'kafkajs';

export const RECEIVED_AT = new Date('2026-11-26T10:00:00.000Z');

export function cloudEvent(id: string, overrides: Partial<CloudEvent> = {}): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source: '/tests/writer',
    type: 'com.example.test',
    time: '2026-11-26T09:59:59.000Z',
    data: { n: id },
    ...overrides,
  };
}

/** A message as the consumer sees it (Buffers), built by the same function ingest uses. */
export function eventMessage(offset: number, tenant: string, event: CloudEvent): KafkaMessage {
  const message = toKafkaMessage(tenant, event, RECEIVED_AT);
  const headers: IHeaders = {};
  for (const [name, value] of Object.entries(message.headers ?? {}))
    headers[name] = Buffer.from(String(value));
  return rawMessage(offset, { key: String(message.key), value: String(message.value), headers });
}

export function rawMessage(
  offset: number,
  {
    key = 'k',
    value,
    headers = {},
  }: { key?: string | null; value: string | Buffer | null; headers?: IHeaders },
): KafkaMessage {
  return {
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.isBuffer(value) ? value : Buffer.from(value),
    timestamp: String(RECEIVED_AT.getTime() + offset),
    attributes: 0,
    offset: String(offset),
    headers,
  };
}

export interface PayloadProbe {
  payload: EachBatchPayload;
  /** Everything the handler did to the consumer, in order: `resolve:N`, `heartbeat`, `commit`. */
  calls: string[];
  running: { value: boolean };
  stale: { value: boolean };
}

export function batchPayload(
  messages: KafkaMessage[],
  {
    topic = 'events',
    partition = 0,
    highWatermark,
  }: { topic?: string; partition?: number; highWatermark?: string } = {},
): PayloadProbe {
  const calls: string[] = [];
  const running = { value: true };
  const stale = { value: false };
  const last = messages[messages.length - 1];
  const payload: EachBatchPayload = {
    batch: {
      topic,
      partition,
      highWatermark: highWatermark ?? (last ? String(Number(last.offset) + 1) : '0'),
      messages,
      isEmpty: () => messages.length === 0,
      firstOffset: () => messages[0]?.offset ?? null,
      lastOffset: () => last?.offset ?? '-1',
      offsetLag: () => '0',
      offsetLagLow: () => '0',
    },
    resolveOffset: (offset) => {
      calls.push(`resolve:${offset}`);
    },
    heartbeat: async () => {
      calls.push('heartbeat');
    },
    pause: () => () => {},
    commitOffsetsIfNecessary: async () => {
      calls.push('commit');
    },
    uncommittedOffsets: () => ({ topics: [] }),
    isRunning: () => running.value,
    isStale: () => stale.value,
  };
  return { payload, calls, running, stale };
}

/** A silent logger with the handler's shape. */
export const quietLog = { info: () => {}, warn: () => {}, error: () => {} };
