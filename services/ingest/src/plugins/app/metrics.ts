import { LATENCY_BUCKETS, type MetricsIn, metricsIn } from '@splitstream/shared';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Counter } from 'prom-client';
import { PIPELINE_STATES, type PipelineObserver } from '../../domain/pipeline';

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

/** The producer pipeline's hooks as histograms and gauges. */
function producerMetrics({ gauge, histogram }: MetricsIn): PipelineObserver {
  const batchMessages = histogram(
    'ingest_producer_batch_messages',
    'Messages per coalesced sendBatch',
    BATCH_MESSAGE_BUCKETS,
  );
  const batchBytes = histogram(
    'ingest_producer_batch_bytes',
    'Estimated bytes per coalesced sendBatch',
    BATCH_BYTE_BUCKETS,
  );
  const sendSeconds = histogram(
    'ingest_producer_send_duration_seconds',
    'sendBatch latency until acks=all, by outcome',
    LATENCY_BUCKETS,
    ['outcome'],
  );
  const inflightMessages = gauge('ingest_inflight_messages', 'Messages queued or being sent');
  const inflightBytes = gauge('ingest_inflight_bytes', 'Bytes queued or being sent');
  const producerReady = gauge('ingest_producer_ready', '1 when the producer is connected and taking events');
  return {
    batchSent(messages, bytes, seconds) {
      batchMessages.observe(messages);
      batchBytes.observe(bytes);
      sendSeconds.observe({ outcome: 'ok' }, seconds);
    },
    batchFailed(_messages, seconds) {
      sendSeconds.observe({ outcome: 'error' }, seconds);
    },
    stateChanged(state) {
      producerReady.set(state === PIPELINE_STATES.ready ? 1 : 0);
    },
    inflightChanged(messages, bytes) {
      inflightMessages.set(messages);
      inflightBytes.set(bytes);
    },
  };
}

/** Ingest's own metrics in the app's registry: requests, accepted events, rejections, producer batches. */
export const ingestMetricsPlugin = fp(
  async (app: FastifyInstance) => {
    const metrics = metricsIn(app.metrics);
    const { counter } = metrics;
    app.decorate('ingestMetrics', {
      requests: counter('ingest_requests_total', 'Ingest requests by route and status', ['route', 'status']),
      acceptedEvents: counter(
        'ingest_accepted_events_total',
        'Events acknowledged by Kafka and answered 202',
      ),
      rejections: counter('ingest_rejections_total', 'Rejected ingest requests by reason', ['reason']),
      replayedEvents: counter(
        'ingest_replayed_events_total',
        'Dead letters re-produced to Kafka by a replay (acknowledged)',
      ),
      replaySkipped: counter(
        'ingest_replay_skipped_total',
        'Dead letters a replay (or dry run) left dead, by reason code',
        ['reason'],
      ),
      producer: producerMetrics(metrics),
    } satisfies IngestMetrics);
  },
  { name: 'ingest-metrics', dependencies: ['splitstream-observability'] },
);
