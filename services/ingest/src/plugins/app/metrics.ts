import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { PipelineObserver, PipelineState } from '../../domain/pipeline';

export interface IngestMetrics {
  requests: Counter<'route' | 'status'>;
  acceptedEvents: Counter;
  rejections: Counter<'reason'>;
  replayedEvents: Counter;
  replaySkipped: Counter<'reason'>;
  producer: PipelineObserver;
}

declare module 'fastify' {
  interface FastifyInstance {
    ingestMetrics: IngestMetrics;
  }
}

const BATCH_MESSAGE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
const BATCH_BYTE_BUCKETS = [1024, 4096, 16384, 65536, 262144, 524288, 1048576, 2097152];
const SEND_SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Ingest's own metrics in the app's registry: requests, accepted events, rejections, producer batches. */
export const ingestMetricsPlugin = fp(
  async (app: FastifyInstance) => {
    const registers = [app.metrics];
    const requests = new Counter({
      name: 'ingest_requests_total',
      help: 'Ingest requests by route and status',
      labelNames: ['route', 'status'] as const,
      registers,
    });
    const acceptedEvents = new Counter({
      name: 'ingest_accepted_events_total',
      help: 'Events acknowledged by Kafka and answered 202',
      registers,
    });
    const rejections = new Counter({
      name: 'ingest_rejections_total',
      help: 'Rejected ingest requests by reason',
      labelNames: ['reason'] as const,
      registers,
    });
    const replayedEvents = new Counter({
      name: 'ingest_replayed_events_total',
      help: 'Dead letters re-produced to Kafka by a replay (acknowledged)',
      registers,
    });
    const replaySkipped = new Counter({
      name: 'ingest_replay_skipped_total',
      help: 'Dead letters a replay (or dry run) left dead, by reason code',
      labelNames: ['reason'] as const,
      registers,
    });
    const batchMessages = new Histogram({
      name: 'ingest_producer_batch_messages',
      help: 'Messages per coalesced sendBatch',
      buckets: BATCH_MESSAGE_BUCKETS,
      registers,
    });
    const batchBytes = new Histogram({
      name: 'ingest_producer_batch_bytes',
      help: 'Estimated bytes per coalesced sendBatch',
      buckets: BATCH_BYTE_BUCKETS,
      registers,
    });
    const sendSeconds = new Histogram({
      name: 'ingest_producer_send_duration_seconds',
      help: 'sendBatch latency until acks=all, by outcome',
      labelNames: ['outcome'] as const,
      buckets: SEND_SECONDS_BUCKETS,
      registers,
    });
    const inflightMessages = new Gauge({
      name: 'ingest_inflight_messages',
      help: 'Messages queued or being sent',
      registers,
    });
    const inflightBytes = new Gauge({
      name: 'ingest_inflight_bytes',
      help: 'Bytes queued or being sent',
      registers,
    });
    const producerReady = new Gauge({
      name: 'ingest_producer_ready',
      help: '1 when the producer is connected and taking events',
      registers,
    });

    const producer: PipelineObserver = {
      batchSent(messages, bytes, seconds) {
        batchMessages.observe(messages);
        batchBytes.observe(bytes);
        sendSeconds.observe({ outcome: 'ok' }, seconds);
      },
      batchFailed(_messages, seconds) {
        sendSeconds.observe({ outcome: 'error' }, seconds);
      },
      stateChanged(state: PipelineState) {
        producerReady.set(state === 'ready' ? 1 : 0);
      },
      inflightChanged(messages, bytes) {
        inflightMessages.set(messages);
        inflightBytes.set(bytes);
      },
    };
    app.decorate('ingestMetrics', {
      requests,
      acceptedEvents,
      rejections,
      replayedEvents,
      replaySkipped,
      producer,
    });
  },
  { name: 'ingest-metrics', dependencies: ['splitstream-observability'] },
);
