import { LATENCY_BUCKETS, metricsIn } from '@splitstream/shared';
import type { Registry } from 'prom-client';

const INSTANCE = ['upstream', 'instance'] as const;

/** Per upstream and instance: requests, latency, errors, retries, health checks, ejections and availability. */
export function createUpstreamMetrics(registry: Registry) {
  const { counter, gauge, histogram } = metricsIn(registry);
  return {
    requests: counter(
      'gateway_upstream_requests_total',
      'Requests sent to an upstream instance, by outcome (status class or transport failure)',
      [...INSTANCE, 'outcome'],
    ),
    duration: histogram(
      'gateway_upstream_response_seconds',
      'Time until an upstream instance answered with headers',
      [...LATENCY_BUCKETS, 30],
      INSTANCE,
    ),
    errors: counter(
      'gateway_upstream_errors_total',
      'Transport failures talking to an upstream instance, by kind',
      [...INSTANCE, 'kind'],
    ),
    retries: counter(
      'gateway_upstream_retries_total',
      'Requests sent again to another instance after a failure that made it safe',
      ['upstream'],
    ),
    ejections: counter(
      'gateway_upstream_ejections_total',
      'Times an instance was taken out of rotation, by reason',
      [...INSTANCE, 'reason'],
    ),
    healthChecks: counter(
      'gateway_upstream_health_checks_total',
      'Active /readyz checks of an upstream instance, by outcome (ok or failed)',
      [...INSTANCE, 'outcome'],
    ),
    readmissions: counter(
      'gateway_upstream_readmissions_total',
      'Times an ejected instance came back into rotation after a passing health check',
      INSTANCE,
    ),
    available: gauge(
      'gateway_upstream_available',
      '1 when the instance is in rotation, 0 when ejected',
      INSTANCE,
    ),
    pending: gauge('gateway_upstream_pending', 'Requests in flight on the instance', INSTANCE),
  };
}
export type UpstreamMetrics = ReturnType<typeof createUpstreamMetrics>;
