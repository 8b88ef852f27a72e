/**
 * The dashboards of the Docker production shape name only what the services export: every metric
 * (and label) a PromQL query of infra/grafana/dashboards/*.json refers to is registered by the real
 * apps, each built in process with the builder server.ts uses (never listening, never ready: the
 * metrics exist once the plugins are registered).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildService, type ServiceInstance } from '@splitstream/shared';
import { testInfra, uniqueName } from '@splitstream/shared/testing';
import type { FastifyPluginAsync } from 'fastify';
import { type PromqlReferences, promqlReferences } from './promql';

const ROOT = join(__dirname, '..', '..');
const DASHBOARDS = join(ROOT, 'infra', 'grafana', 'dashboards');
const SERVICES = ['gateway', 'ingest', 'query', 'writer'] as const;
type ServiceName = (typeof SERVICES)[number];

/** Labels every scraped series has besides its own: the registry's default and Prometheus's target labels. */
const SCRAPE_LABELS = ['service', 'job', 'instance'];

type Registry = ServiceInstance['metrics'];
type Env = Record<string, string>;

/** A built service app: the instance (closed afterwards) and the registry its plugins declared metrics in. */
interface BuiltService {
  server: ServiceInstance;
  registry: Registry;
}

/** How each service's tests build it: its config loader, server options export and settings. */
const BUILDS: Record<ServiceName, { loadConfig: string; serverOptions?: string; env: () => Env }> = {
  gateway: { loadConfig: 'loadGatewayConfig', serverOptions: 'GATEWAY_SERVER_OPTIONS', env: () => ({}) },
  ingest: {
    loadConfig: 'loadIngestConfig',
    env: () => ({ KAFKA_BROKERS: testInfra().brokers.join(','), MONGO_WRITE_URI: testInfra().writeUri }),
  },
  query: {
    loadConfig: 'loadQueryConfig',
    serverOptions: 'SERVER_OPTIONS',
    env: () => ({ MONGO_READ_URI: testInfra().readUri, MONGO_WRITE_URI: testInfra().writeUri }),
  },
  // Never made ready, so it never joins a group: its own topic and group all the same.
  writer: {
    loadConfig: 'loadWriterConfig',
    env: () => ({
      KAFKA_BROKERS: testInfra().brokers.join(','),
      MONGO_WRITE_URI: testInfra().writeUri,
      KAFKA_TOPIC: uniqueName('dashboards-test'),
      KAFKA_GROUP_ID: uniqueName('dashboards-test'),
    }),
  },
};

/**
 * An export of services/<service>/src/<file>.ts, loaded when the test runs (jest transpiles it like
 * any import). Not a static import: that would pull every service's sources into this package's
 * typecheck, whose rootDir is infra/.
 */
function serviceExport<T>(service: ServiceName, file: string, name: string): T {
  const module = require(join(ROOT, 'services', service, 'src', file)) as Record<string, unknown>;
  if (module[name] === undefined) throw new Error(`services/${service}/src/${file}.ts exports no ${name}`);
  return module[name] as T;
}

/**
 * Builds the service with buildService (what server.ts listens with), its app.ts and its validated
 * config, never listening and never ready: every metric is declared once the plugins are registered.
 * The app is encapsulated (its `metrics` decorator is not on the root instance), so it runs inside a
 * wrapper that keeps the registry of the context the app registered its plugins in.
 */
async function build(service: ServiceName): Promise<BuiltService> {
  const spec = BUILDS[service];
  const loadConfig = serviceExport<(env: Env) => { LOG_LEVEL: string }>(service, 'config', spec.loadConfig);
  const app = serviceExport<FastifyPluginAsync<{ config: unknown }>>(service, 'app', 'app');
  const serverOptions = spec.serverOptions
    ? serviceExport<Record<string, unknown>>(service, 'app', spec.serverOptions)
    : {};
  let registry: Registry | undefined;
  const server = await buildService({
    service,
    config: loadConfig({ LOG_LEVEL: 'silent', ...spec.env() }),
    app: async (instance, options) => {
      await app(instance, options);
      registry = instance.metrics;
    },
    serverOptions: { ...serverOptions, logger: false },
  });
  if (!registry) throw new Error(`${service} declared no metrics registry`);
  return { server, registry };
}

/** What prom-client keeps of a registered metric (getMetricsAsArray never runs a gauge's collect). */
interface RegisteredMetric {
  name: string;
  type: string;
  labelNames?: readonly string[];
}

/** The series a metric is exposed as, each with its labels. */
function seriesOf(metric: RegisteredMetric): Array<[string, string[]]> {
  const labels = [...(metric.labelNames ?? [])];
  switch (metric.type) {
    case 'histogram':
      return [
        [`${metric.name}_bucket`, [...labels, 'le']],
        [`${metric.name}_count`, labels],
        [`${metric.name}_sum`, labels],
      ];
    case 'summary':
      return [
        [metric.name, [...labels, 'quantile']],
        [`${metric.name}_count`, labels],
        [`${metric.name}_sum`, labels],
      ];
    default:
      return [[metric.name, labels]];
  }
}

/** Series name → the services exporting it and its labels (scrape labels included). */
type Exported = Map<string, { services: Set<string>; labels: Set<string> }>;

function exportedSeries(apps: Partial<Record<ServiceName, BuiltService>>): Exported {
  const exported: Exported = new Map();
  for (const service of SERVICES) {
    const registry = apps[service]?.registry;
    if (!registry) throw new Error(`${service} was not built`);
    for (const metric of registry.getMetricsAsArray() as unknown as RegisteredMetric[]) {
      for (const [series, labels] of seriesOf(metric)) {
        const entry = exported.get(series) ?? { services: new Set(), labels: new Set(SCRAPE_LABELS) };
        entry.services.add(service);
        for (const label of labels) entry.labels.add(label);
        exported.set(series, entry);
      }
    }
  }
  return exported;
}

/** What is wrong with one expression against the exported series: unknown metrics, labels, services. */
function problemsOf(references: PromqlReferences, exported: Exported): string[] {
  const problems: string[] = [];
  const known = new Set<string>();
  for (const { metric, matchers } of references.selectors) {
    const entry = exported.get(metric);
    if (!entry) {
      problems.push(`metric ${metric} is exported by no service`);
      continue;
    }
    for (const label of entry.labels) known.add(label);
    for (const { label, op, value } of matchers) {
      if (!entry.labels.has(label)) problems.push(`${metric} has no label ${label}`);
      if (label === 'service' && op === '=' && !entry.services.has(value))
        problems.push(`${metric} is not exported by ${value} (only ${[...entry.services].join(', ')})`);
    }
  }
  for (const label of references.groupingLabels) {
    if (!known.has(label)) problems.push(`no metric of the expression has the label ${label}`);
  }
  return problems;
}

interface Panel {
  title?: string;
  type?: string;
  datasource?: { type?: string; uid?: string };
  targets?: Array<{ expr?: string; datasource?: { type?: string; uid?: string } }>;
  panels?: Panel[];
}

interface Dashboard {
  title: string;
  panels: Panel[];
  templating?: { list?: Array<{ name: string; type: string; query?: string }> };
}

function panelsOf(panels: Panel[]): Panel[] {
  return panels.flatMap((panel) => [panel, ...panelsOf(panel.panels ?? [])]);
}

const dashboards: Array<[string, Dashboard]> = readdirSync(DASHBOARDS)
  .filter((file) => file.endsWith('.json'))
  .map((file) => [file, JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard]);

/** Every PromQL query of a dashboard, as `panel title` and expression. */
function queriesOf(dashboard: Dashboard): Array<[string, string]> {
  return panelsOf(dashboard.panels).flatMap((panel) =>
    (panel.targets ?? []).flatMap((target) =>
      target.expr === undefined ? [] : [[panel.title ?? '(untitled)', target.expr] as [string, string]],
    ),
  );
}

describe('dashboards against the services', () => {
  const apps: Partial<Record<ServiceName, BuiltService>> = {};
  let exported: Exported;

  beforeAll(async () => {
    for (const service of SERVICES) apps[service] = await build(service);
    exported = exportedSeries(apps);
  }, 30_000);

  // Whatever was built, even when a later build failed.
  afterAll(async () => {
    await Promise.all(Object.values(apps).map(({ server }) => server.close()));
  }, 30_000);

  it('collects the metrics of every service from its real app', () => {
    const services = (series: string) => [...(exported.get(series)?.services ?? [])];
    expect(services('http_request_duration_seconds_count').sort()).toEqual([...SERVICES]);
    expect(services('gateway_upstream_available')).toEqual(['gateway']);
    expect(services('ingest_accepted_events_total')).toEqual(['ingest']);
    expect(services('query_read_duration_seconds_bucket')).toEqual(['query']);
    expect(services('writer_consumer_lag_seconds')).toEqual(['writer']);
  });

  it('flags a metric, a label or a service the services do not have', () => {
    const problems = problemsOf(
      promqlReferences(
        'sum by (reason, shard) (rate(ingest_rejections_total{service="writer", colour="red"}[5m]))' +
          ' + rate(writer_events_stored[5m]) + query_read_duration_seconds',
      ),
      exported,
    );
    expect(problems).toEqual([
      'ingest_rejections_total is not exported by writer (only ingest)',
      'ingest_rejections_total has no label colour',
      'metric writer_events_stored is exported by no service',
      'metric query_read_duration_seconds is exported by no service',
      'no metric of the expression has the label shard',
    ]);
  });

  it('has dashboards to check', () => {
    expect(dashboards.length).toBeGreaterThan(0);
    for (const [, dashboard] of dashboards) expect(queriesOf(dashboard).length).toBeGreaterThan(0);
  });

  it.each(dashboards)('%s names only exported metrics and labels', (_file, dashboard) => {
    const problems = queriesOf(dashboard).flatMap(([title, expr]) =>
      problemsOf(promqlReferences(expr), exported).map((problem) => `${title}: ${problem} (in ${expr})`),
    );
    expect(problems).toEqual([]);
  });

  it.each(dashboards)('%s queries its Prometheus datasource variable', (_file, dashboard) => {
    const variable = dashboard.templating?.list?.find((v) => v.type === 'datasource');
    expect(variable).toMatchObject({ query: 'prometheus' });
    const uid = `\${${variable?.name}}`;
    const elsewhere = panelsOf(dashboard.panels)
      .filter((panel) => panel.type !== 'row')
      .flatMap((panel) => [panel.datasource, ...(panel.targets ?? []).map((t) => t.datasource)])
      .filter((datasource) => datasource?.type !== 'prometheus' || datasource.uid !== uid);
    expect(elsewhere).toEqual([]);
  });
});
