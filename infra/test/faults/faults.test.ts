/**
 * The fault suite: the whole system under a steady load through the gateway while, in turn, one
 * real process is SIGKILLed and then restarted the way an operator would (a service: started
 * again, same settings and port; infrastructure: `infra.sh up`). Per scenario it counts what was
 * accepted, stored, lost, duplicated, refused and failed, and how long recovery took, asserts the
 * design's promises and writes the table to REPORT.md.
 *
 * Disruptive: it kills the shared Kafka broker and PostgreSQL, so it is its own jest project
 * (test/faults/jest.config.js, `npm run test:faults`), run alone after every other suite.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SCOPES } from '@splitstream/shared';
import { REPO_ROOT, testApiKey, testInfra, uniqueName } from '@splitstream/shared/testing';
import { MongoClient } from 'mongodb';
import { ARTIFACTS, FaultSystem, run } from './processes';
import { type Row, writeReport } from './report';
import {
  componentScenario as component,
  runScenario,
  SCENARIO_TIMEOUT_MS,
  type Scenario,
  type ScenarioContext,
  serviceScenario,
} from './scenario';

const infra = testInfra();

describe('fault suite: SIGKILL one process at a time under load', () => {
  const started = Date.now();
  const system = new FaultSystem();
  const rows: Row[] = [];
  let context: ScenarioContext | undefined;

  const service = (name: string, role: string, kept: { writes: boolean; reads: boolean }) =>
    serviceScenario(system, name, role, kept);
  const SCENARIOS: Scenario[] = [
    service('ingest-1', 'an ingest, 1 of 2', { writes: false, reads: true }),
    service('query-1', 'a query, 1 of 2', { writes: true, reads: true }),
    // The read path (gateway → query → replica) depends on neither Kafka, ingest, the writer nor
    // the primary side of the store: reads are kept through those faults too.
    service('writer', 'the writer', { writes: false, reads: true }),
    component('kafka', 'the Kafka broker', { writes: false, reads: true }),
    component('ferretdb-primary', 'the store primary endpoint', { writes: true, reads: true }),
    component('ferretdb-replica', 'the store replica endpoint', { writes: true, reads: true }),
    component('postgres-primary', 'the PostgreSQL primary', { writes: true, reads: true }),
    component('postgres-replica', 'the PostgreSQL standby', { writes: true, reads: true }),
  ];
  const keys = new Map(
    SCENARIOS.map((s) => {
      const tenant = uniqueName(`faults-${s.slug}`);
      return [s.slug, testApiKey(tenant, tenant, [SCOPES.read, SCOPES.write])];
    }),
  );

  beforeAll(async () => {
    rmSync(join(ARTIFACTS, 'faults'), { recursive: true, force: true });
    const store = await new MongoClient(infra.writeUri, { serverSelectionTimeoutMS: 5_000 }).connect();
    context = { system, store };
    await system.start([...keys.values()]);
  }, 120_000);

  afterAll(async () => {
    await context?.load?.stop();
    await system.stop([...keys.values()].map((k) => k.tenant)).catch(() => undefined);
    await context?.store.close();
    if (rows.length === 0) return;
    const { stdout: commit } = await run('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT });
    const runInfo = { date: new Date(), commit: commit.trim(), wallS: (Date.now() - started) / 1000 };
    mkdirSync(ARTIFACTS, { recursive: true });
    writeReport(join(ARTIFACTS, 'faults-report.md'), rows, runInfo);
    // Only a run of every scenario replaces the committed table.
    if (rows.length === SCENARIOS.length) writeReport(join(__dirname, 'REPORT.md'), rows, runInfo);
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))(
    'SIGKILL %s: nothing accepted is lost or duplicated, and the other side keeps serving',
    async (_name, s) => {
      const row = await runScenario(
        context as ScenarioContext,
        s,
        keys.get(s.slug) as { key: string; tenant: string },
      );
      rows.push(row);
      expect({ broken: row.broken, notes: row.notes }).toEqual({ broken: [], notes: row.notes });
    },
    SCENARIO_TIMEOUT_MS,
  );
});
