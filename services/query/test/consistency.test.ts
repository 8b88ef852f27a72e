import { encodeToken, STORE, type StoredEvent } from '@splitstream/shared';
import { uniqueName } from '@splitstream/shared/testing';
import { buildApp, newTenant, principal, seed, setCheckpoints, storedEvents, useQuerySuite } from './helpers';

/**
 * Read-your-writes against the real replica. The writer is simulated the way it works: the event is
 * stored on the primary, then the partition's checkpoint; the query reads from the replica.
 */
describe('read-your-writes with consistency tokens', () => {
  const tenant = newTenant();
  const topic = uniqueName('qtopic');

  const suite = useQuerySuite({
    tenants: [tenant],
    topics: [topic],
    env: () => ({ KAFKA_TOPIC: topic }),
    fixtures: async (store) => {
      await setCheckpoints(store, topic, { 0: '100', 1: '100', 2: '100' });
    },
  });

  const metric = async (outcome: string) => {
    const text = (await suite.server.inject('/metrics')).body;
    const match = text.match(
      new RegExp(`query_consistency_waits_total\\{outcome="${outcome}",service="query"\\} (\\d+)`),
    );
    return Number(match?.[1] ?? 0);
  };

  it('answers a read with a fresh token once the replica has the write, not before', async () => {
    const [doc] = storedEvents(tenant, [{ id: 'fresh', time: '2026-05-01T00:00:00Z' }], topic) as [
      StoredEvent,
    ];
    const token = encodeToken({ topic, offsets: { '1': '101' } });
    const waitedBefore = await metric('waited');

    // The read is issued right after "ingest" answered, before the writer stored anything.
    const started = Date.now();
    const read = suite.server.inject({
      url: `/v1/events/fresh?after=${token}`,
      headers: principal(tenant, suite.config),
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await suite.store.write.collection<StoredEvent>(STORE.collections.events).insertOne(doc);
    await setCheckpoints(suite.store, topic, { 1: '101' }, { replicated: false });

    const res = await read;
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe('fresh');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(res.headers['splitstream-served-by']).toBe('replica');
    expect(Number(res.headers['splitstream-staleness-ms'])).toBeLessThan(5_000);
    expect(await metric('waited')).toBe(waitedBefore + 1);
  });

  it('takes the token from the Consistency-Token header too, and answers at once when already applied', async () => {
    await seed(suite.store, storedEvents(tenant, [{ id: 'old', time: '2026-05-01T00:00:00Z' }], topic));
    const immediateBefore = await metric('immediate');
    const res = await suite.server.inject({
      url: '/v1/events/old',
      headers: {
        ...principal(tenant, suite.config),
        'consistency-token': encodeToken({ topic, offsets: { '0': '100' } }),
      },
    });
    expect(res.statusCode).toBe(200);
    expect(await metric('immediate')).toBe(immediateBefore + 1);
    const stats = await suite.server.inject({
      url: `/v1/stats?since=2026-05-01T00:00:00Z&until=2026-05-02T00:00:00Z&after=${encodeToken({ topic, offsets: { '2': '99' } })}`,
      headers: principal(tenant, suite.config),
    });
    expect(stats.statusCode).toBe(200);
  });

  it('answers 503 with Retry-After when a token from the future is not applied within maxWaitMs', async () => {
    const token = encodeToken({ topic, offsets: { '0': '100', '2': '9000000000000' } });
    const timeoutsBefore = await metric('timeout');
    const started = Date.now();
    const res = await suite.server.inject({
      url: `/v1/events?after=${token}&maxWaitMs=400`,
      headers: principal(tenant, suite.config),
    });
    const elapsed = Date.now() - started;
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.headers['splitstream-served-by']).toBe('replica');
    expect(res.json()).toMatchObject({
      status: 503,
      title: 'Service Unavailable',
      partitionsBehind: [{ partition: 2, required: '9000000000000', applied: '100' }],
    });
    expect(res.json().detail).toContain('maxWaitMs=400');
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(2_000);
    expect(await metric('timeout')).toBe(timeoutsBefore + 1);
  });

  it('uses the configured default wait and never waits with maxWaitMs=0', async () => {
    const unknownPartition = encodeToken({ topic, offsets: { '5': '0' } });
    let started = Date.now();
    const now = await suite.server.inject({
      url: `/v1/events/old/status?after=${unknownPartition}&maxWaitMs=0`,
      headers: principal(tenant, suite.config),
    });
    expect(now.statusCode).toBe(503);
    expect(now.json().partitionsBehind).toEqual([{ partition: 5, required: '0', applied: null }]);
    expect(Date.now() - started).toBeLessThan(1_000);

    const { server: short, config: shortConfig } = await buildApp({
      KAFKA_TOPIC: topic,
      READ_MAX_WAIT_MS: '200',
    });
    try {
      started = Date.now();
      const res = await short.inject({
        url: `/v1/deadletters?after=${unknownPartition}`,
        headers: principal(tenant, shortConfig),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().detail).toContain('maxWaitMs=200');
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    } finally {
      await short.close();
    }
  });
});
