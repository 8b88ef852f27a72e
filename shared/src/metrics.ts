import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Latency buckets (seconds) of every duration histogram: 1 ms to 10 s. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Metric constructors bound to one registry, so each metric is declared in one short call. */
export function metricsIn(registry: Registry) {
  const registers = [registry];
  return {
    counter: <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
      new Counter<L>({ name, help, labelNames, registers }),
    /** `collect`, when given, refills the gauge at every scrape from the service's own state. */
    gauge: <L extends string>(
      name: string,
      help: string,
      labelNames: readonly L[] = [],
      collect?: (gauge: Gauge<L>) => void | Promise<void>,
    ) =>
      new Gauge<L>({
        name,
        help,
        labelNames,
        registers,
        ...(collect
          ? {
              collect(this: Gauge<L>) {
                this.reset();
                return collect(this);
              },
            }
          : {}),
      }),
    histogram: <L extends string>(
      name: string,
      help: string,
      buckets: readonly number[] = LATENCY_BUCKETS,
      labelNames: readonly L[] = [],
    ) => new Histogram<L>({ name, help, buckets: [...buckets], labelNames, registers }),
  };
}
export type MetricsIn = ReturnType<typeof metricsIn>;
