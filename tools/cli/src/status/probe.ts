import { createReadClient, createWriteClient, probeStoreRead, STORE, withTimeout } from '@splitstream/shared';
import { Kafka, logLevel } from 'kafkajs';
import type { MongoClient } from 'mongodb';
import { failureReason } from '../failure';
import { sampleValues } from './prometheus';
import { type ServiceName, type Targets, uriEndpoint } from './targets';

/** The metric each service's row shows beside its readiness (absent metric: "n/a"). */
export const SERVICE_METRICS: Partial<Record<ServiceName, { label: string; metric: string }>> = {
  writer: { label: 'lag', metric: 'writer_consumer_lag_messages' },
  query: { label: 'staleness', metric: 'query_replica_staleness_seconds' },
};

export interface ServiceReport {
  kind: 'service';
  name: ServiceName;
  endpoint: string;
  /** "ok", or why /healthz did not answer 200. */
  health: string;
  /** /readyz: ready or not, with each check's detail; `error` when it gave no readiness answer. */
  ready: boolean;
  checks: Record<string, string>;
  error?: string;
  /** Writer: messages not stored yet, summed over its partitions. */
  lag?: number | null;
  /** Query: the largest replica staleness it reports, in seconds. */
  staleness?: number | null;
}

export interface InfraReport {
  kind: 'infra';
  name: 'kafka' | 'store-write' | 'store-read';
  endpoint: string;
  up: boolean;
  detail: string;
}

export type PartReport = ServiceReport | InfraReport;

async function get(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, body: await response.text() };
}

export async function probeService(
  name: ServiceName,
  baseUrl: string,
  timeoutMs: number,
): Promise<ServiceReport> {
  const report: ServiceReport = {
    kind: 'service',
    name,
    endpoint: baseUrl,
    health: '',
    ready: false,
    checks: {},
  };
  const [health, ready, metrics] = await Promise.allSettled([
    get(`${baseUrl}/healthz`, timeoutMs),
    get(`${baseUrl}/readyz`, timeoutMs),
    SERVICE_METRICS[name] ? get(`${baseUrl}/metrics`, timeoutMs) : Promise.resolve(undefined),
  ]);
  report.health =
    health.status === 'rejected'
      ? `down (${failureReason(health.reason)})`
      : health.value.status === 200
        ? 'ok'
        : `HTTP ${health.value.status}`;
  if (ready.status === 'rejected') {
    report.error = failureReason(ready.reason);
  } else {
    try {
      const body = JSON.parse(ready.value.body) as { checks?: Record<string, string> };
      report.checks = body.checks ?? {};
      report.ready = ready.value.status === 200;
    } catch {
      report.error = `HTTP ${ready.value.status}, not a readiness answer`;
    }
  }
  const wanted = SERVICE_METRICS[name];
  if (wanted) {
    const values =
      metrics.status === 'fulfilled' && metrics.value?.status === 200
        ? sampleValues(metrics.value.body, wanted.metric)
        : [];
    const value =
      values.length === 0
        ? null
        : name === 'writer'
          ? values.reduce((a, b) => a + b, 0)
          : Math.max(...values);
    if (name === 'writer') report.lag = value;
    else report.staleness = value;
  }
  return report;
}

export async function probeKafka(brokers: string[], timeoutMs: number): Promise<InfraReport> {
  const report: InfraReport = {
    kind: 'infra',
    name: 'kafka',
    endpoint: brokers.join(','),
    up: false,
    detail: '',
  };
  const admin = new Kafka({
    clientId: 'splitstream-cli',
    brokers,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    const cluster = await withTimeout(
      (async () => {
        await admin.connect();
        return admin.describeCluster();
      })(),
      timeoutMs,
    );
    report.up = true;
    report.detail = `${cluster.brokers.length} broker(s), controller ${cluster.controller}`;
  } catch (error) {
    report.detail = failureReason(error);
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return report;
}

/** A real read on the endpoint (a ping is answered even when the store's backend is gone). */
export async function probeStore(
  name: 'store-write' | 'store-read',
  uri: string,
  timeoutMs: number,
): Promise<InfraReport> {
  const report: InfraReport = { kind: 'infra', name, endpoint: uriEndpoint(uri), up: false, detail: '' };
  const options = {
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    appName: 'splitstream-cli',
  };
  let client: MongoClient | undefined;
  try {
    client = name === 'store-write' ? createWriteClient(uri, options) : createReadClient(uri, options);
    const connected = client;
    await withTimeout(
      (async () => {
        await connected.connect();
        await probeStoreRead(connected.db(STORE.database), timeoutMs);
      })(),
      timeoutMs,
    );
    report.up = true;
    report.detail = 'ok (a read answered)';
  } catch (error) {
    report.detail = failureReason(error);
  } finally {
    await client?.close().catch(() => undefined);
  }
  return report;
}

/** Every part at once; each check is bounded by `timeoutMs`. */
export async function probeAll(targets: Targets, timeoutMs: number): Promise<PartReport[]> {
  return Promise.all<PartReport>([
    ...targets.services.map(({ name, url }) => probeService(name, url, timeoutMs)),
    probeKafka(targets.kafka, timeoutMs),
    probeStore('store-write', targets.storeWrite, timeoutMs),
    probeStore('store-read', targets.storeRead, timeoutMs),
  ]);
}
