/**
 * The fault suite's system: two ingest, two query and a writer as real processes it can SIGKILL
 * and start again with the same settings on the same port, a gateway in front of them, and the
 * infrastructure components killed and restored through `infra.sh`.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import {
  type ChildService,
  createSystemTopics,
  freePort,
  REPO_ROOT,
  SERVICE_SCRIPT,
  type SystemTopics,
  spawnService,
  type TestApiKey,
} from '@splitstream/shared/testing';

export const run = promisify(execFile);
const INFRA_SH = join(REPO_ROOT, 'infra/scripts/infra.sh');
export const ARTIFACTS = resolve(__dirname, '../../test-artifacts');
export const RECOVERY_BOUND_MS = 45_000;

/** A service process the suite can kill and start again with the same settings on the same port. */
interface Managed {
  script: string;
  env: Record<string, string>;
  port: number;
  proc: ChildService;
}

/**
 * Every line a process writes, in test-artifacts/faults/<name>-<pid>.log: the evidence behind a
 * broken expectation (ChildService keeps only the last 20 kB, which a burst of 5xx stacks fills).
 */
function record(proc: ChildService): ChildService {
  const file = join(ARTIFACTS, 'faults', `${proc.name}-${proc.child.pid}.log`);
  mkdirSync(join(ARTIFACTS, 'faults'), { recursive: true });
  appendFileSync(file, proc.output());
  const append = (chunk: Buffer) => appendFileSync(file, chunk);
  proc.child.stdout?.on('data', append);
  proc.child.stderr?.on('data', append);
  return proc;
}

const alive = (proc: ChildService) => proc.child.exitCode === null && proc.child.signalCode === null;

export async function infraSh(...args: string[]): Promise<void> {
  await run('bash', [INFRA_SH, ...args], { timeout: RECOVERY_BOUND_MS, env: process.env });
}

export class FaultSystem {
  private readonly services = new Map<string, Managed>();
  gateway: ChildService | undefined;
  topics: SystemTopics | undefined;

  async start(keys: TestApiKey[]): Promise<void> {
    this.topics = await createSystemTopics('faults', { clientId: 'faults' });
    const { env, writerEnv } = this.topics;
    await Promise.all([
      // A shorter session than the default 30 s: the restarted writer's rebalance waits for the
      // killed member to expire, and an operator running a writer that may crash would tune this.
      this.spawnManaged('writer', 'writer', {
        ...writerEnv,
        KAFKA_SESSION_TIMEOUT_MS: '10000',
        KAFKA_HEARTBEAT_INTERVAL_MS: '1000',
      }),
      this.spawnManaged('ingest-1', 'ingest', env),
      this.spawnManaged('ingest-2', 'ingest', env),
      this.spawnManaged('query-1', 'query', env),
      this.spawnManaged('query-2', 'query', env),
    ]);
    this.gateway = record(
      await spawnService('gateway', SERVICE_SCRIPT('gateway'), {
        INTERNAL_AUTH_SECRET: env.INTERNAL_AUTH_SECRET as string,
        INGEST_UPSTREAMS: `${this.managed('ingest-1').proc.url},${this.managed('ingest-2').proc.url}`,
        QUERY_UPSTREAMS: `${this.managed('query-1').proc.url},${this.managed('query-2').proc.url}`,
        API_KEYS: JSON.stringify(keys.map((k) => k.record)),
        // Every request of the load goes through; rate limiting is not what is measured.
        RATE_LIMIT_MAX: '1000000',
        HEALTH_CHECK_INTERVAL_MS: '500',
        EJECTION_MIN_MS: '500',
      }),
    );
  }

  /** SIGTERMs every process, then removes the topics and the tenants' data. */
  async stop(tenants: string[]): Promise<void> {
    const procs = [this.gateway, ...[...this.services.values()].map((m) => m.proc)];
    await Promise.all(procs.map((p) => p?.kill('SIGTERM')));
    await this.topics?.remove(tenants);
  }

  get gatewayUrl(): string {
    return (this.gateway as ChildService).url;
  }

  async killService(name: string): Promise<void> {
    await this.managed(name).proc.kill('SIGKILL');
  }

  async restartService(name: string): Promise<void> {
    const m = this.managed(name);
    m.proc = record(await spawnService(name, m.script, m.env, { port: m.port }));
  }

  /** Services that died on their own during the scenario are a finding: noted, then started again. */
  async reviveCrashed(killed: string): Promise<string[]> {
    const notes: string[] = [];
    for (const [name, m] of this.services) {
      if (alive(m.proc)) continue;
      if (name !== killed)
        notes.push(`${name} exited by itself (${m.proc.child.signalCode ?? m.proc.child.exitCode})`);
      await this.restartService(name);
    }
    return notes;
  }

  private managed(name: string): Managed {
    return this.services.get(name) as Managed;
  }

  private async spawnManaged(name: string, service: string, env: Record<string, string>) {
    const port = await freePort();
    const proc = record(await spawnService(name, SERVICE_SCRIPT(service), env, { port }));
    this.services.set(name, { script: SERVICE_SCRIPT(service), env, port, proc });
  }
}
