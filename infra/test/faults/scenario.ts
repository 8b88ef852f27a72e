/**
 * One fault scenario: steady load through the gateway, a baseline, the kill, the operator's
 * restart, recovery; then the audit of what was accepted against what the primary holds.
 */
import { STORE } from '@splitstream/shared';
import { waitFor } from '@splitstream/shared/testing';
import type { MongoClient } from 'mongodb';
import { Load, type Outcome, summarize } from './load';
import { type FaultSystem, infraSh, RECOVERY_BOUND_MS } from './processes';
import type { Row } from './report';

const BASELINE_MS = 3_000;
const FAULT_MS = 6_000;
const AFTER_RECOVERY_MS = 2_000;
const DRAIN_BOUND_MS = 30_000;
export const SCENARIO_TIMEOUT_MS = 120_000;

export interface Scenario {
  name: string;
  slug: string;
  restart: string;
  kill(): Promise<void>;
  restore(): Promise<void>;
  /** The design promises no refused write while this fault lasts. */
  writesKept: boolean;
  /** The design promises no failed read while this fault lasts. */
  readsKept: boolean;
}

type Kept = { writes: boolean; reads: boolean };

/** A service of the suite's own: SIGKILLed, then started again with the same settings and port. */
export const serviceScenario = (system: FaultSystem, name: string, role: string, kept: Kept): Scenario => ({
  name: `${role} (${name})`,
  slug: name,
  restart: 'started again, same port',
  kill: () => system.killService(name),
  restore: () => system.restartService(name),
  writesKept: kept.writes,
  readsKept: kept.reads,
});

/** A component of the shared infrastructure: SIGKILLed, then restored by `infra.sh up`. */
export const componentScenario = (name: string, role: string, kept: Kept): Scenario => ({
  name: `${role} (${name})`,
  slug: name,
  restart: '`infra.sh up`',
  kill: () => infraSh('kill-component', name),
  restore: () => infraSh('up'),
  writesKept: kept.writes,
  readsKept: kept.reads,
});

/** Per event id, how many copies the primary holds for the tenant (one source: the id is the identity). */
async function storedCopies(store: MongoClient, tenant: string): Promise<Map<string, number>> {
  const docs = await store
    .db(STORE.database)
    .collection(STORE.collections.events)
    .find({ tenant }, { projection: { _id: 0, id: 1 } })
    .toArray();
  const copies = new Map<string, number>();
  for (const { id } of docs) copies.set(id, (copies.get(id) ?? 0) + 1);
  return copies;
}

function expectationsOf(s: Scenario, row: Row): Record<string, boolean> {
  return {
    'lost 0': row.lost === 0,
    'duplicated 0': row.duplicated === 0,
    ...(s.writesKept ? { 'writes refused 0': row.writesRefused === 0 } : {}),
    ...(s.readsKept ? { 'reads failed 0': row.readsFailed === 0 } : {}),
  };
}

export interface ScenarioContext {
  system: FaultSystem;
  store: MongoClient;
  /** The load running now, for a teardown that must stop it. */
  load?: Load;
}

export async function runScenario(
  context: ScenarioContext,
  s: Scenario,
  { key, tenant }: { key: string; tenant: string },
): Promise<Row> {
  const notes: string[] = [];
  const traffic = new Load(context.system.gatewayUrl, key, s.slug);
  context.load = traffic;
  traffic.start();
  let downS = 0;
  let recoverS: number | null = null;
  let restartS = 0;
  let restartedAt = Number.POSITIVE_INFINITY;
  let restored = false;
  try {
    await waitFor(() => traffic.probe(), {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'a healthy baseline',
    });
    await new Promise((r) => setTimeout(r, BASELINE_MS));
    const killedAt = Date.now();
    await s.kill();
    await new Promise((r) => setTimeout(r, FAULT_MS));
    const restartAt = Date.now();
    downS = (restartAt - killedAt) / 1000;
    await s.restore();
    restored = true;
    restartedAt = Date.now();
    restartS = (restartedAt - restartAt) / 1000;
    try {
      await waitFor(() => traffic.probe(), {
        timeoutMs: RECOVERY_BOUND_MS,
        intervalMs: 200,
        what: 'recovery',
      });
      recoverS = (Date.now() - restartAt) / 1000;
    } catch {
      notes.push(`no event end to end within ${RECOVERY_BOUND_MS / 1000} s of the restart`);
    }
    await new Promise((r) => setTimeout(r, AFTER_RECOVERY_MS));
  } finally {
    await traffic.stop();
    context.load = undefined;
    // Whatever happened above, the next scenario starts on a whole system.
    if (!restored) await s.restore().catch((error) => notes.push(`restart failed: ${error}`));
    notes.push(...(await context.system.reviveCrashed(s.slug)));
  }

  const accepted = traffic.accepted;
  const audit = async () => {
    const copies = await storedCopies(context.store, tenant);
    const stored = [...accepted].filter((id) => copies.has(id)).length;
    return { copies, stored, lost: accepted.size - stored };
  };
  let result = await audit();
  try {
    await waitFor(
      async () => {
        result = await audit();
        return result.lost === 0;
      },
      { timeoutMs: DRAIN_BOUND_MS, intervalMs: 500, what: 'every accepted event stored' },
    );
  } catch {
    notes.push(
      `${result.lost} accepted events still not stored ${DRAIN_BOUND_MS / 1000} s after the load stopped`,
    );
  }
  const duplicated = [...result.copies.values()].filter((n) => n > 1).length;
  const unaccepted = [...result.copies.keys()].filter((id) => !accepted.has(id)).length;
  if (unaccepted > 0) notes.push(`${unaccepted} events stored though their write was refused`);
  // Those still failing once the operator's restart is done point at a slow reconnect, not the outage.
  const late = (outcomes: Outcome[]) => {
    const after = outcomes.filter((o) => o.at > restartedAt);
    return after.length > 0 ? ` (${summarize(after)} after the restart finished)` : '';
  };
  if (traffic.refused.length > 0) {
    notes.push(`writes refused: ${summarize(traffic.refused)}${late(traffic.refused)}`);
  }
  if (traffic.readFailures.length > 0) {
    notes.push(`reads failed: ${summarize(traffic.readFailures)}${late(traffic.readFailures)}`);
  }

  const row: Row = {
    scenario: s.name,
    restart: s.restart,
    accepted: accepted.size,
    stored: result.stored,
    lost: result.lost,
    duplicated,
    writes: traffic.writeRequests,
    writesRefused: traffic.refused.length,
    reads: traffic.readRequests,
    readsFailed: traffic.readFailures.length,
    downS,
    restartS,
    recoverS,
    expected: '',
    broken: [],
    notes,
  };
  const expectations = expectationsOf(s, row);
  row.expected = Object.keys(expectations).join(', ');
  row.broken = Object.keys(expectations).filter((k) => !expectations[k]);
  return row;
}
