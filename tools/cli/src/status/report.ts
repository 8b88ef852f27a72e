import type { PartReport, ServiceReport } from './probe';

const formatNumber = (value: number | null | undefined, unit: string): string =>
  value === undefined ? '-' : value === null ? 'n/a' : `${Number(value.toFixed(3))}${unit}`;

const checksOf = (report: ServiceReport): string =>
  Object.entries(report.checks)
    .map(([name, detail]) => `${name}: ${detail}`)
    .join('; ');

/** What is wrong with one part, or undefined when it is up and ready. */
export function problemOf(report: PartReport): string | undefined {
  if (report.kind === 'infra') return report.up ? undefined : `${report.name} down (${report.detail})`;
  if (report.health !== 'ok') {
    return `${report.name} ${report.health.startsWith('down') ? report.health : `unhealthy (${report.health})`} at ${report.endpoint}`;
  }
  if (report.error) return `${report.name} not ready (${report.error})`;
  if (!report.ready) return `${report.name} not ready (${checksOf(report) || 'no detail'})`;
  return undefined;
}

export function problemsOf(reports: readonly PartReport[]): string[] {
  return reports.flatMap((report) => problemOf(report) ?? []);
}

interface Row {
  part: string;
  endpoint: string;
  health: string;
  ready: string;
  lag: string;
  staleness: string;
  details: string;
}

const HEADER: Row = {
  part: 'PART',
  endpoint: 'ENDPOINT',
  health: 'HEALTHZ',
  ready: 'READYZ',
  lag: 'LAG',
  staleness: 'STALENESS',
  details: 'DETAILS',
};

function rowOf(report: PartReport): Row {
  if (report.kind === 'infra') {
    return {
      part: report.name,
      endpoint: report.endpoint,
      health: report.up ? 'up' : 'down',
      ready: '-',
      lag: '-',
      staleness: '-',
      details: report.detail,
    };
  }
  const down = report.health.startsWith('down');
  return {
    part: report.name,
    endpoint: report.endpoint,
    health: down ? 'down' : report.health,
    ready: report.error ? (down ? '-' : 'error') : report.ready ? 'ready' : 'NOT READY',
    lag: report.name === 'writer' ? (down ? 'n/a' : formatNumber(report.lag, '')) : '-',
    staleness: report.name === 'query' ? (down ? 'n/a' : formatNumber(report.staleness, ' s')) : '-',
    details: down ? report.health.replace(/^down \((.*)\)$/, '$1') : report.error || checksOf(report),
  };
}

/** The status table: one row per part, columns padded to their widest cell. */
export function formatStatus(reports: readonly PartReport[]): string {
  const rows = [HEADER, ...reports.map(rowOf)];
  const columns = Object.keys(HEADER) as (keyof Row)[];
  const widths = columns.map((column) => Math.max(...rows.map((row) => row[column].length)));
  return rows
    .map((row) =>
      columns
        .map((column, i) => (i === columns.length - 1 ? row[column] : row[column].padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** The closing line: all well, or how many parts have a problem (each problem follows on stderr). */
export function summaryOf(reports: readonly PartReport[]): string {
  const problems = problemsOf(reports);
  return problems.length === 0
    ? `all ${reports.length} parts up and ready`
    : `${problems.length} of ${reports.length} parts have a problem`;
}
