import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Per upstream and instance: requests, latency, errors, retries, ejections and availability. */
export function createUpstreamMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'gateway_upstream_requests_total',
      help: 'Requests sent to an upstream instance, by outcome (status class or transport failure)',
      labelNames: ['upstream', 'instance', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'gateway_upstream_response_seconds',
      help: 'Time until an upstream instance answered with headers',
      labelNames: ['upstream', 'instance'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'gateway_upstream_errors_total',
      help: 'Transport failures talking to an upstream instance, by kind',
      labelNames: ['upstream', 'instance', 'kind'],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'gateway_upstream_retries_total',
      help: 'Requests sent again to another instance after a failure that made it safe',
      labelNames: ['upstream'],
      registers: [registry],
    }),
    ejections: new Counter({
      name: 'gateway_upstream_ejections_total',
      help: 'Times an instance was taken out of rotation, by reason',
      labelNames: ['upstream', 'instance', 'reason'],
      registers: [registry],
    }),
    readmissions: new Counter({
      name: 'gateway_upstream_readmissions_total',
      help: 'Times an ejected instance came back into rotation after a passing health check',
      labelNames: ['upstream', 'instance'],
      registers: [registry],
    }),
    available: new Gauge({
      name: 'gateway_upstream_available',
      help: '1 when the instance is in rotation, 0 when ejected',
      labelNames: ['upstream', 'instance'],
      registers: [registry],
    }),
    pending: new Gauge({
      name: 'gateway_upstream_pending',
      help: 'Requests in flight on the instance',
      labelNames: ['upstream', 'instance'],
      registers: [registry],
    }),
  };
}
export type UpstreamMetrics = ReturnType<typeof createUpstreamMetrics>;
