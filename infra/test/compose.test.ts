/** Prometheus scrapes every service at the name and port docker-compose.yml gives it; Grafana is provisioned. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const SERVICES = ['gateway', 'ingest', 'query', 'writer'] as const;

describe('compose and Prometheus', () => {
  const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
  const prometheus = readFileSync(join(ROOT, 'infra', 'prometheus', 'prometheus.yml'), 'utf8');

  /** The PORT docker-compose.yml sets in a top-level service's block. */
  function composePort(service: string): string | undefined {
    const block = new RegExp(`^  ${service}:\\s*\\n((?:(?:    .*)?\\n)*)`, 'm').exec(compose)?.[1] ?? '';
    return /\bPORT: (\d+)/.exec(block)?.[1];
  }

  /** job_name → its static targets (the file's own simple layout: one job per `- job_name:`). */
  function scrapeJobs(): Map<string, string[]> {
    const jobs = new Map<string, string[]>();
    for (const job of prometheus.split(/^\s*- job_name:/m).slice(1)) {
      const name = /^\s*(\S+)/.exec(job)?.[1] ?? '';
      const targets = [...job.matchAll(/targets:\s*\[([^\]]*)\]/g)].flatMap((m) =>
        (m[1] ?? '').split(',').map((t) => t.trim().replace(/^["']|["']$/g, '')),
      );
      if (/metrics_path:/.test(job) && !/metrics_path:\s*["']?\/metrics["']?\s*$/m.test(job))
        throw new Error(`job ${name} scrapes another path than /metrics`);
      jobs.set(name, targets);
    }
    return jobs;
  }

  it.each(SERVICES)('scrapes %s at the name and port docker-compose.yml gives it', (service) => {
    const port = composePort(service);
    expect(port).toMatch(/^\d+$/);
    expect(scrapeJobs().get(service)).toEqual([`${service}:${port}`]);
  });

  it('runs Prometheus and Grafana with pinned images and the provisioned files', () => {
    for (const image of ['prom/prometheus', 'grafana/grafana'])
      expect(compose).toMatch(new RegExp(`image: ${image}:v?\\d+\\.\\d+\\.\\d+\\s`));
    expect(compose).toContain('./infra/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    expect(compose).toContain('./infra/grafana/provisioning:/etc/grafana/provisioning:ro');
    const provider = readFileSync(
      join(ROOT, 'infra', 'grafana', 'provisioning', 'dashboards', 'splitstream.yml'),
      'utf8',
    );
    const path = /^\s*path:\s*(\S+)/m.exec(provider)?.[1];
    expect(compose).toContain(`./infra/grafana/dashboards:${path}:ro`);
    const datasource = readFileSync(
      join(ROOT, 'infra', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'),
      'utf8',
    );
    expect(datasource).toMatch(/^\s*url: http:\/\/prometheus:9090\s*$/m);
    expect(compose).toMatch(/^ {2}prometheus:\s*$/m);
  });
});
