import type { PipelineFigures } from '@splitstream/shared';

import { LineChart } from './charts';

/** The window and bucket width of the pipeline figures' charts. */
export const PIPELINE_WINDOW_SECONDS = 120;
export const PIPELINE_STEP_SECONDS = 2;

export interface Sample {
  at: number;
  stalenessMs: number;
}

function round(n: number | null, digits = 1): string {
  if (n === null || Number.isNaN(n)) return '–';
  return n.toFixed(digits);
}

function Figure({ name, label, value, unit }: { name: string; label: string; value: string; unit: string }) {
  return (
    <div class="figure" data-figure={name}>
      <span class="label">{label}</span>
      <span class="value" data-testid={`figure-${name}`}>
        {value}
      </span>
      <span class="unit">{unit}</span>
    </div>
  );
}

export function Figures({ pipeline, samples }: { pipeline: PipelineFigures | null; samples: Sample[] }) {
  const buckets = pipeline?.buckets ?? [];
  const step = pipeline?.stepSeconds ?? PIPELINE_STEP_SECONDS;
  // "Now" is the last five buckets (10 s at the default step): the window average moves too slowly.
  const recent = buckets.slice(-5);
  const rate = (pick: (b: PipelineFigures['buckets'][number]) => number) =>
    recent.length === 0 ? null : recent.reduce((n, b) => n + pick(b), 0) / (recent.length * step);
  const staleness = samples.at(-1)?.stalenessMs ?? null;
  return (
    <section class="panel" aria-label="PipelineFigures">
      <h2>PipelineFigures</h2>
      <div class="figures">
        <Figure name="accepted" label="Accepted" value={round(rate((b) => b.accepted))} unit="events/s" />
        <Figure name="stored" label="Stored" value={round(rate((b) => b.stored))} unit="events/s" />
        <Figure name="reads" label="Reads" value={round(rate((b) => b.reads))} unit="reads/s" />
        <Figure
          name="p50"
          label="Arrival → readable p50"
          value={round(pipeline?.latencyMs.p50 ?? null, 0)}
          unit="ms"
        />
        <Figure
          name="p99"
          label="Arrival → readable p99"
          value={round(pipeline?.latencyMs.p99 ?? null, 0)}
          unit="ms"
        />
        <Figure name="staleness" label="Replica staleness" value={round(staleness, 0)} unit="ms" />
      </div>
      <div class="charts">
        <LineChart
          title={`Events per second, last ${PIPELINE_WINDOW_SECONDS / 60} min`}
          unit="/s"
          series={[
            { name: 'accepted', color: '#2f6fdf', values: buckets.map((b) => b.accepted / step) },
            { name: 'stored', color: '#1a9c5b', dashed: true, values: buckets.map((b) => b.stored / step) },
          ]}
        />
        <LineChart
          title="Reads per second"
          unit="/s"
          series={[{ name: 'reads', color: '#8a4fd1', values: buckets.map((b) => b.reads / step) }]}
        />
        <LineChart
          title="Arrival → readable latency"
          unit="ms"
          series={[
            { name: 'p50', color: '#d9822b', values: buckets.map((b) => b.latencyP50Ms) },
            { name: 'p99', color: '#c23030', values: buckets.map((b) => b.latencyP99Ms) },
          ]}
        />
        <LineChart
          title="Replica staleness"
          unit="ms"
          series={[{ name: 'staleness', color: '#5c7080', values: samples.map((s) => s.stalenessMs) }]}
        />
      </div>
      {pipeline?.sampled && <p class="hint">More events than one answer reads: figures are a lower bound.</p>}
    </section>
  );
}
