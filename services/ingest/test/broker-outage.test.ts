import { connect } from 'node:net';
import { TcpProxy, testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import type { ISocketFactory } from 'kafkajs';
import { buildIngest, consumeTopic, ingestSuite, postEvent, sampleEvent } from './helpers';

interface Outcome {
  id: string;
  status: number;
  retryAfter: string | undefined;
  sentAt: number;
  answeredAt: number;
}

/**
 * The broker goes away (a proxy in front of it is cut) and comes back, while clients keep posting:
 * 503 + Retry-After within 1 s, recovery without help, and no 202 for an event that is not in Kafka.
 */
describe('broker outage (real broker behind a TcpProxy)', () => {
  const [brokerHost = '127.0.0.1', brokerPort = '9092'] = (testInfra().brokers[0] ?? '').split(':');
  let proxy: TcpProxy;
  const suite = ingestSuite({
    build: async (topic) => {
      proxy = await new TcpProxy(brokerHost, Number(brokerPort)).start();
      // The broker advertises its own address, so every connection (not only bootstrap) goes through the proxy.
      const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
        const viaProxy = host === brokerHost && port === Number(brokerPort);
        const socket = connect(
          { host: viaProxy ? '127.0.0.1' : host, port: viaProxy ? proxy.port : port },
          onConnect,
        );
        socket.setKeepAlive(true, 60_000);
        return socket;
      };
      return buildIngest(topic, {}, { socketFactory });
    },
    afterApp: async () => {
      await proxy?.stop();
    },
  });
  const tenant = uniqueName('tenant');

  it('answers 503 + Retry-After within 1 s while the broker is gone, recovers by itself, never 202s a lost event', async () => {
    const outcomes: Outcome[] = [];
    let running = true;
    const client = async () => {
      while (running) {
        const event = sampleEvent({ subject: `s-${outcomes.length % 5}` });
        const sentAt = performance.now();
        const response = await postEvent(suite.app, tenant, event);
        outcomes.push({
          id: String(event.id),
          status: response.statusCode,
          retryAfter: response.headers['retry-after'] as string | undefined,
          sentAt,
          answeredAt: performance.now(),
        });
        // Keep the load moderate: the point is continuous traffic across the outage, not volume.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const clients = Array.from({ length: 8 }, client);
    try {
      await waitFor(() => outcomes.filter((o) => o.status === 202).length >= 100, {
        what: '100 accepted events',
      });

      const cutAt = performance.now();
      await proxy.cut();
      // While it is down: /readyz says so, and requests are refused fast.
      await waitFor(async () => (await suite.app.inject('/readyz')).statusCode === 503, {
        timeoutMs: 1_000,
        what: 'readyz 503',
      });
      // Down long enough for kafkajs to give up on the send that was in flight at the cut.
      await waitFor(() => outcomes.filter((o) => o.sentAt > cutAt + 3_000).length >= 50, {
        what: 'requests during the outage',
      });
      const restoredAt = performance.now();
      await proxy.restore();

      const answeredDuringOutage = outcomes.filter((o) => o.answeredAt > cutAt && o.sentAt < restoredAt);
      const sentDuringOutage = answeredDuringOutage.filter((o) => o.sentAt > cutAt);
      expect(sentDuringOutage.length).toBeGreaterThanOrEqual(50);
      for (const o of sentDuringOutage) {
        expect(o.status).toBe(503);
        expect(o.retryAfter).toBe('1');
      }
      // Every request waiting at or after the cut got its answer within 1 s of the later of both.
      for (const o of answeredDuringOutage) {
        expect(o.answeredAt - Math.max(o.sentAt, cutAt)).toBeLessThan(1_000);
      }

      // Back by itself: 202s for requests sent after the restore.
      await waitFor(() => outcomes.some((o) => o.sentAt > restoredAt && o.status === 202), {
        timeoutMs: 20_000,
        what: 'a 202 after the broker came back',
      });
      await waitFor(() => outcomes.filter((o) => o.sentAt > restoredAt && o.status === 202).length >= 50, {
        what: '50 accepted events after recovery',
      });
      expect((await suite.app.inject('/readyz')).statusCode).toBe(200);
    } finally {
      running = false;
      await Promise.all(clients);
    }

    // Count: every event answered 202 is in the topic (503s may or may not be: clients retry them).
    const accepted = outcomes.filter((o) => o.status === 202);
    const refused = outcomes.filter((o) => o.status === 503);
    expect(outcomes.every((o) => o.status === 202 || o.status === 503)).toBe(true);
    const messages = await consumeTopic(suite.kafka, suite.topic, accepted.length);
    const inTopic = new Set(messages.map((m) => String(m.value.id)));
    const lost = accepted.filter((o) => !inTopic.has(o.id));
    expect({ accepted: accepted.length, lost: lost.length }).toEqual({ accepted: accepted.length, lost: 0 });
    expect(refused.length).toBeGreaterThanOrEqual(50);
  });
});
