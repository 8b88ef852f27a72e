import { decodeToken } from '@splitstream/shared';
import { uniqueName } from '@splitstream/shared/testing';
import { partitionFor } from '../src/domain/partitioning';
import { consumeTopic, ingestSuite, postEvent, sampleEvent } from './helpers';

const PARTITIONS = 6;
const SUBJECTS = ['cart-1', 'cart-2', 'cart-3', 'cart-4'];

interface Sent {
  id: string;
  subject: string;
  /** Position in its client's sequence (sequential clients only). */
  seq: number;
  sentAt: number;
  ackedAt: number;
  offset: bigint;
}

/**
 * "Order per subject" under concurrency means: every event of a (tenant, subject) lands in one
 * partition, and whatever was acknowledged before another event was sent sits before it there.
 * Concurrent requests for the same subject have no order to keep beyond that.
 */
describe('ordering per subject (real broker)', () => {
  // This suite is about order, not backpressure: on a loaded 2-core machine a broker ack can
  // take seconds, which the default stall bound (2 s) would rightly answer with 503.
  const suite = ingestSuite({
    partitions: PARTITIONS,
    env: { INGEST_SEND_STALL_MS: '20000' },
  });
  const tenant = uniqueName('tenant');

  async function send(subject: string, seq: number): Promise<Sent> {
    const event = sampleEvent({ subject, data: { seq } });
    const sentAt = performance.now();
    const response = await postEvent(suite.app, tenant, event);
    const ackedAt = performance.now();
    expect({ status: response.statusCode, body: response.statusCode === 202 ? '' : response.body }).toEqual({
      status: 202,
      body: '',
    });
    const offsets = Object.values(decodeToken(response.json().token).offsets);
    return { id: String(event.id), subject, seq, sentAt, ackedAt, offset: BigInt(offsets[0] as string) };
  }

  it('keeps 1000 concurrently sent events in order per subject', async () => {
    // 500 events: one sequential client per subject (waits for each 202), subjects in parallel,
    // plus 500 events fired all at once across the same subjects.
    const sequential = SUBJECTS.map(async (subject) => {
      const sent: Sent[] = [];
      for (let seq = 0; seq < 125; seq += 1) sent.push(await send(subject, seq));
      return sent;
    });
    const burst = Array.from({ length: 500 }, (_, i) => send(SUBJECTS[i % SUBJECTS.length] as string, -1));
    const perClient = await Promise.all(sequential);
    const all = [...perClient.flat(), ...(await Promise.all(burst))];
    expect(all).toHaveLength(1000);

    const messages = await consumeTopic(suite.kafka, suite.topic, 1000);
    expect(messages).toHaveLength(1000);
    const found = new Map(messages.map((m) => [String(m.value.id), m]));

    for (const subject of SUBJECTS) {
      const key = `${tenant}/${subject}`;
      const ofSubject = all.filter((s) => s.subject === subject);
      // One partition per subject, and the offset each 202 reported is where the event is.
      for (const s of ofSubject) {
        const m = found.get(s.id);
        expect(m?.partition).toBe(partitionFor(key, PARTITIONS));
        expect(m?.offset).toBe(String(s.offset));
      }
      // A sequential client's events are in the partition in the order it sent them.
      const client = perClient[SUBJECTS.indexOf(subject)] as Sent[];
      const offsets = client.map((s) => s.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(new Set(offsets).size).toBe(client.length);
      // Happens-before across all 250 events of the subject: acknowledged before sent ⇒ earlier offset.
      const byAck = [...ofSubject].sort((a, b) => a.ackedAt - b.ackedAt);
      const bySent = [...ofSubject].sort((a, b) => a.sentAt - b.sentAt);
      let maxAckedOffset = -1n;
      let i = 0;
      let checked = 0;
      for (const later of bySent) {
        while (i < byAck.length && (byAck[i] as Sent).ackedAt < later.sentAt) {
          const acked = byAck[i] as Sent;
          if (acked.offset > maxAckedOffset) maxAckedOffset = acked.offset;
          i += 1;
        }
        if (maxAckedOffset >= 0n) checked += 1;
        expect(later.offset).toBeGreaterThan(maxAckedOffset);
      }
      expect(checked).toBeGreaterThan(100);
    }
  });
});
