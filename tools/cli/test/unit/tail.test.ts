import type { KafkaMessage } from 'kafkajs';
import { parseCommand } from '../../src/args';
import { formatTailed, matches, tailedEvent } from '../../src/tail';

const message = (value: string, headers: Record<string, string> = {}): KafkaMessage =>
  ({
    key: null,
    value: Buffer.from(value),
    offset: '41',
    timestamp: '0',
    attributes: 0,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)])),
  }) as KafkaMessage;

describe('tail', () => {
  const event = { specversion: '1.0', id: 'e1', source: '/shop', type: 'com.example.order.created' };
  const tailed = tailedEvent(
    2,
    message(JSON.stringify(event), {
      'splitstream-tenant': 'acme',
      'splitstream-received-at': '2026-12-02T05:00:00.000Z',
    }),
  );

  it('reads tenant, ingest time and the event from the Kafka message', () => {
    expect(tailed).toEqual({
      tenant: 'acme',
      partition: 2,
      offset: '41',
      receivedAt: '2026-12-02T05:00:00.000Z',
      event,
    });
    expect(formatTailed(tailed)).toBe(
      '2026-12-02T05:00:00.000Z acme p2@41 com.example.order.created /shop e1',
    );
  });

  it('shows what is not an event as it came', () => {
    const odd = tailedEvent(0, message('not json'));
    expect(odd).toMatchObject({ tenant: null, event: null, raw: 'not json' });
    expect(formatTailed(odd)).toBe('- (no tenant) p0@41 not an event: "not json"');
  });

  it('filters by tenant and type', () => {
    expect(matches(tailed, { tenant: undefined, type: undefined })).toBe(true);
    expect(matches(tailed, { tenant: 'acme', type: 'com.example.order.created' })).toBe(true);
    expect(matches(tailed, { tenant: 'globex', type: undefined })).toBe(false);
    expect(matches(tailed, { tenant: undefined, type: 'com.example.other' })).toBe(false);
  });

  it('takes its brokers as status does, the events topic by default', () => {
    expect(
      parseCommand(['tail', '--tenant', 'acme', '--max', '5'], { KAFKA_BROKERS: 'b1:9092,b2:9092' }),
    ).toEqual({
      kind: 'tail',
      brokers: ['b1:9092', 'b2:9092'],
      topic: 'events',
      tenant: 'acme',
      type: undefined,
      fromBeginning: false,
      max: 5,
      json: false,
    });
  });
});
