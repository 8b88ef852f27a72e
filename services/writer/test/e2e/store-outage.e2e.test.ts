/**
 * The store's primary endpoint goes away for a while, or stops answering: this suite's writers reach
 * the store through TCP proxies that the tests cut, freeze and restore (the shared store itself
 * stays up for other suites).
 */
import { identityKey } from '@splitstream/shared';
import { TcpProxy, uniqueName, waitFor } from '@splitstream/shared/testing';
import { e2eSuite, event, infra, metricValue } from './harness';

const OUTAGE_MS = 4_000;

describe('store primary endpoint unavailable', () => {
  const suite = e2eSuite();
  let proxy: TcpProxy;
  const tenant = suite.tenant('outage');

  beforeAll(async () => {
    proxy = await new TcpProxy('127.0.0.1', Number(new URL(infra.writeUri).port)).start();
    suite.defer(() => proxy.stop());
  });

  it('waits and retries while the store is away, lag grows, then drains with nothing lost', async () => {
    const topic = await suite.topic('writer-outage', 3);
    const deadLetters = await suite.topic('writer-outage-dlt', 1);
    const groupId = uniqueName('writer-outage');
    const all = Array.from({ length: 1_500 }, (_, i) => event(`o-${i}`));
    const server = await suite.writer({
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetters,
      KAFKA_GROUP_ID: groupId,
      MONGO_WRITE_URI: `mongodb://127.0.0.1:${proxy.port}/?directConnection=true&retryWrites=false`,
    });

    await suite.produce(topic, tenant, all.slice(0, 500));
    await suite.waitForStored(tenant, 500);
    // Stored is not done: counts, checkpoint and commit follow. Cut only once the group has
    // committed all 500, as Kafka reports it, or the cut lands inside that batch.
    await waitFor(async () => (await suite.groupLag(groupId, topic)) === 0, {
      what: 'the first 500 committed',
    });

    await proxy.cut();
    const cutAt = Date.now();
    await suite.produce(topic, tenant, all.slice(500));

    // The writer keeps trying, commits nothing past what is stored, and says so.
    await waitFor(async () => (await metricValue(server, 'writer_retries_total')) >= 2, { what: 'retries' });
    await waitFor(async () => (await server.inject('/readyz')).statusCode === 503, { what: 'not ready' });
    const lagEarly = await metricValue(server, 'writer_consumer_lag_seconds');
    await waitFor(async () => (await metricValue(server, 'writer_consumer_lag_messages')) >= 1_000, {
      what: 'lag in messages',
    });
    await waitFor(async () => (await suite.groupLag(groupId, topic)) === 1_000, {
      what: 'group lag of 1,000',
    });
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, OUTAGE_MS - (Date.now() - cutAt))));
    expect(await metricValue(server, 'writer_consumer_lag_seconds')).toBeGreaterThan(lagEarly);
    expect(await suite.countStored(tenant)).toBe(500);
    expect(await suite.groupLag(groupId, topic)).toBe(1_000);

    await proxy.restore();
    await suite.waitForStored(tenant, 1_500);
    await suite.expectCheckpointsAtEnd(topic);
    // The commit follows a batch or the commit interval; on loaded cores it has passed 20 s.
    await waitFor(async () => (await suite.groupLag(groupId, topic)) === 0, {
      what: 'offsets committed',
      timeoutMs: 60_000,
    });
    await waitFor(async () => (await metricValue(server, 'writer_consumer_lag_messages')) === 0, {
      what: 'no lag',
    });
    expect(await metricValue(server, 'writer_consumer_lag_seconds')).toBe(0);
    expect(await suite.storedIdentities(tenant)).toEqual(
      all.map((e) => identityKey(tenant, e.source, e.id)).sort(),
    );
    expect(await metricValue(server, 'writer_events_dead_lettered_total')).toBe(0);
    await waitFor(async () => (await server.inject('/readyz')).statusCode === 200, { what: 'ready again' });
  }, 150_000);

  it('ends a store call that gets no answer at WRITER_STORE_TIMEOUT_MS, retries, then drains', async () => {
    const frozen = await new TcpProxy('127.0.0.1', Number(new URL(infra.writeUri).port)).start();
    suite.defer(() => frozen.stop());
    const silentTenant = suite.tenant('silent');
    const topic = await suite.topic('writer-silent', 1);
    const deadLetters = await suite.topic('writer-silent-dlt', 1);
    const groupId = uniqueName('writer-silent');
    const all = Array.from({ length: 300 }, (_, i) => event(`s-${i}`));
    // The driver's server monitor would also end a call on a silent endpoint, at its next check: a
    // check a minute away leaves the writer's own bound as the only one in this test.
    const server = await suite.writer({
      KAFKA_TOPIC: topic,
      KAFKA_DEAD_LETTER_TOPIC: deadLetters,
      KAFKA_GROUP_ID: groupId,
      MONGO_WRITE_URI: `mongodb://127.0.0.1:${frozen.port}/?directConnection=true&retryWrites=false&heartbeatFrequencyMS=60000`,
      WRITER_STORE_TIMEOUT_MS: '1000',
    });

    await suite.produce(topic, silentTenant, all.slice(0, 100));
    await suite.waitForStored(silentTenant, 100);
    await waitFor(async () => (await suite.groupLag(groupId, topic)) === 0, {
      what: 'the first 100 committed',
    });

    frozen.freeze();
    await suite.produce(topic, silentTenant, all.slice(100));
    // Well before the monitor's check a minute away: only the writer's own bound can end the call.
    await waitFor(async () => (await metricValue(server, 'writer_retries_total')) >= 1, {
      timeoutMs: 15_000,
      what: 'a retry of the unanswered call',
    });
    await waitFor(async () => (await metricValue(server, 'writer_partition_stall_seconds')) > 0, {
      what: 'the partition reported stalled',
    });
    expect(await suite.groupLag(groupId, topic)).toBe(200);

    frozen.thaw();
    await suite.waitForStored(silentTenant, 300);
    // The commit follows a batch or the commit interval; on loaded cores it has passed 20 s.
    await waitFor(async () => (await suite.groupLag(groupId, topic)) === 0, {
      what: 'offsets committed',
      timeoutMs: 60_000,
    });
    expect(await suite.storedIdentities(silentTenant)).toEqual(
      all.map((e) => identityKey(silentTenant, e.source, e.id)).sort(),
    );
    expect(await metricValue(server, 'writer_events_dead_lettered_total')).toBe(0);
  }, 150_000);
});
