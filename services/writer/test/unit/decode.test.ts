import { type CloudEvent, KAFKA_HEADERS } from '@splitstream/shared';
import { decodeMessage } from '../../src/domain/decode';
import { cloudEvent, eventMessage, RECEIVED_AT, rawMessage } from '../support';

const context = { topic: 't', partition: 1, maxEventBytes: 10_000, now: new Date('2026-11-26T11:00:00Z') };

describe('decodeMessage', () => {
  it('fills a missing event time with the receipt time so every stored event has one', () => {
    const { time: _time, ...noTime } = cloudEvent('a');
    const decoded = decodeMessage(eventMessage(7, 'tn', noTime), context);
    expect(decoded.ok && decoded.doc.time).toEqual(RECEIVED_AT);
    expect(decoded.ok && decoded.doc.event.time).toBe(RECEIVED_AT.toISOString());
    expect(decoded.ok && decoded.doc).toMatchObject({ tenant: 'tn', offset: '7', partition: 1, topic: 't' });
  });

  it('falls back to the Kafka timestamp when the receivedAt header is absent or unreadable', () => {
    const message = eventMessage(3, 'tn', cloudEvent('b'));
    message.headers = { ...message.headers, [KAFKA_HEADERS.receivedAt]: Buffer.from('yesterday') };
    const decoded = decodeMessage(message, context);
    expect(decoded.ok && decoded.doc.receivedAt).toEqual(new Date(RECEIVED_AT.getTime() + 3));
  });

  it('keeps extension attributes of the CloudEvent', () => {
    const decoded = decodeMessage(
      eventMessage(0, 'tn', cloudEvent('c', { traceparent: '00-abc' } as Partial<CloudEvent>)),
      context,
    );
    expect(decoded.ok && decoded.doc.event).toMatchObject({ traceparent: '00-abc' });
  });

  it('dead-letters a too-large event with its identity, so its status and replay filters find it', () => {
    const big = cloudEvent('huge', { data: 'x'.repeat(20_000) } as Partial<CloudEvent>);
    const decoded = decodeMessage(eventMessage(4, 'tn', big), context);
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.deadLetter.reason).toMatch(
      /^too-large: value is \d+ bytes, more than the 10000 bytes stored/,
    );
    expect(decoded.deadLetter).toMatchObject({
      tenant: 'tn',
      id: 'huge',
      source: big.source,
      type: big.type,
    });
  });

  it('names what is wrong with an invalid event and keeps its readable identity', () => {
    const value = JSON.stringify({ specversion: '1.0', id: 'x', source: 'has spaces', type: '' });
    const decoded = decodeMessage(
      rawMessage(0, { value, headers: { [KAFKA_HEADERS.tenant]: 'tn' } }),
      context,
    );
    expect(decoded.ok).toBe(false);
    if (decoded.ok) return;
    expect(decoded.deadLetter.reason).toMatch(/^invalid-event: not a valid CloudEvent: .*\/source/);
    expect(decoded.deadLetter).toMatchObject({ tenant: 'tn', id: 'x', source: 'has spaces' });
    expect(decoded.deadLetter).not.toHaveProperty('type');
  });

  it('refuses an extension attribute with an object value', () => {
    const message = eventMessage(
      0,
      'tn',
      cloudEvent('d', { traceparent: { nested: true } } as Partial<CloudEvent>),
    );
    const decoded = decodeMessage(message, context);
    expect(!decoded.ok && decoded.deadLetter.reason).toMatch(
      /^invalid-event: .*\/traceparent extension attributes/,
    );
  });

  it('treats a JSON value that is not an object as invalid', () => {
    const decoded = decodeMessage(rawMessage(0, { value: '[1,2]' }), context);
    expect(!decoded.ok && decoded.deadLetter.reason).toMatch(/^invalid-event:/);
  });
});
