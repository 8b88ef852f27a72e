/**
 * Poison suite: events that stores, parsers or JavaScript trip over, posted through the real
 * pipeline (gateway → ingest → Kafka → writer → store → replica → query → gateway, every service
 * its built dist as its own process, on this suite's own topic, dead-letter topic, consumer group,
 * tenant and key). Every case goes on the same subject, so the same partition and ordering key: one
 * that stalls the writer stalls everything behind it. Each must end as a 400 at ingest naming the
 * field, a stored event read back unchanged, or a dead letter with its reason; then an ordinary
 * event posted after them on that subject must be stored within seconds.
 *
 * It lives with the writer (it is the writer that must isolate a refused document, dead-letter it
 * and move on) and runs in the parallel phase of `npm test`: it disturbs nothing shared. The table
 * goes to the test output and to POISON-REPORT.md next to this file.
 *
 * The cases are in poison-cases.ts, the table and report in poison-report.ts.
 */
import { isDeepStrictEqual } from 'node:util';
import { SCOPES } from '@splitstream/shared';
import { type System, spawnSystem, testApiKey, testInfra, uniqueName } from '@splitstream/shared/testing';
import { MongoClient } from 'mongodb';
import { CASES, NEIGHBOUR_DATA, type PoisonCase } from './poison-cases';
import { markdownTable, type Row, writeReport } from './poison-report';

const infra = testInfra();
/** From the ordinary event's 202 until it must be readable; it waits behind every poison case. */
const ORDINARY_STORED_WITHIN_MS = 20_000;
/** One read's bound on the consistency token (a 503 past it is retried until the deadline). */
const READ_MAX_WAIT_MS = 5_000;
/** How long a case's reads may keep answering 503 before that answer is its outcome. */
const READS_SETTLE_WITHIN_MS = 30_000;

/**
 * Equality of JSON values as JSON itself carries them: `-0` is written `0` by every serializer (and
 * JSON has no other zero), integers beyond 2^53 are IEEE doubles once parsed (2^64 is read back as
 * 18446744073709552000, the same double), and key order is not part of an object's value.
 */
function sameJson(sent: unknown, received: unknown): boolean {
  // Both re-parsed here: fetch's JSON comes from another realm than the test's (jest runs tests in a
  // vm context), and isDeepStrictEqual compares prototypes.
  const asJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;
  return isDeepStrictEqual(asJson(sent), asJson(received));
}

describe('poison suite: every poison event ends in a named 400, a faithful store or a dead letter, and the pipeline moves on', () => {
  const tenant = uniqueName('poison');
  const subject = uniqueName('poison-subject');
  const apiKey = testApiKey('poison', tenant, [SCOPES.read, SCOPES.write]);
  let system: System;
  let localStore = false;
  const rows: Row[] = [];
  let ordinaryRow: Row | undefined;

  const call = (path: string, init: RequestInit = {}) => system.call(path, init);
  /**
   * A read through the gateway. A 503 is the query side's "not yet, or too busy" (a token's wait or
   * the store bound ran out, as it can while the parallel suites load the store): asked again after
   * a pause until READS_SETTLE_WITHIN_MS; any other answer is the outcome.
   */
  const readSettled = async (path: string): Promise<Response> => {
    const deadline = Date.now() + READS_SETTLE_WITHIN_MS;
    for (;;) {
      const response = await call(path);
      if (response.status !== 503 || Date.now() > deadline) return response;
      await response.body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const afterToken = (token: unknown) => `after=${token}&maxWaitMs=${READ_MAX_WAIT_MS}`;

  beforeAll(async () => {
    // The local store says what it is in buildInfo; a real MongoDB has no ferretdbVersion.
    const client = await new MongoClient(infra.writeUri, { serverSelectionTimeoutMS: 5_000 }).connect();
    localStore = 'ferretdbVersion' in (await client.db('admin').command({ buildInfo: 1 }));
    await client.close();
    system = await spawnSystem({ prefix: 'poison', clientId: 'poison-test', keys: [apiKey] });
  }, 90_000);

  afterAll(async () => {
    if (rows.length === CASES.length && ordinaryRow) writeReport([...rows, ordinaryRow], localStore);
    await system?.stop();
  });

  it('posts every case on one subject, then an ordinary event that is stored within seconds', async () => {
    const eventText = (id: string, data: string, type = '"com.example.poison"', attributes = '') =>
      `{"specversion":"1.0","id":"${id}","source":"/poison","type":${type},"subject":"${subject}"${attributes},"data":${data}}`;

    // 1. Post them all, in order (each answered before the next is sent: one ordering key, one order).
    const posted: Array<{ c: PoisonCase; id: string; status: number; body: Record<string, unknown> }> = [];
    for (const [index, c] of CASES.entries()) {
      const id = `poison-${index}`;
      const text = eventText(id, c.data, c.type, c.attributes);
      const response = c.inBatch
        ? await call('/v1/events/batch', {
            method: 'POST',
            body: `[${eventText(`${id}-before`, NEIGHBOUR_DATA)},${text},${eventText(`${id}-after`, NEIGHBOUR_DATA)}]`,
          })
        : await call('/v1/events', { method: 'POST', body: text });
      posted.push({
        c,
        id,
        status: response.status,
        body: (await response.json()) as Record<string, unknown>,
      });
    }
    const ordinary = { id: 'ordinary-after-poison', data: { n: 1, note: 'nothing special' } };
    const ordinaryPost = await call('/v1/events', {
      method: 'POST',
      body: eventText(ordinary.id, JSON.stringify(ordinary.data)),
    });
    const acceptedAt = Date.now();
    expect(ordinaryPost.status).toBe(202);
    const { token: ordinaryToken } = (await ordinaryPost.json()) as { token: string };

    // 2. The ordinary event, read back with its token: it waits behind every case of its subject.
    let ordinaryRead: Record<string, unknown> | undefined;
    let lastAnswer = '';
    while (!ordinaryRead && Date.now() - acceptedAt < ORDINARY_STORED_WITHIN_MS) {
      const read = await call(
        `/v1/events/${ordinary.id}?after=${ordinaryToken}&maxWaitMs=${Math.min(
          READ_MAX_WAIT_MS,
          Math.max(0, ORDINARY_STORED_WITHIN_MS - (Date.now() - acceptedAt)),
        )}`,
      );
      if (read.status === 200) ordinaryRead = (await read.json()) as Record<string, unknown>;
      else lastAnswer = `${read.status} ${await read.text()}`;
    }
    const storedAfterMs = Date.now() - acceptedAt;
    ordinaryRow = {
      name: 'an ordinary event after them, same subject',
      expected: `stored within ${ORDINARY_STORED_WITHIN_MS / 1000} s`,
      outcome: ordinaryRead
        ? `stored, read back with its token ${(storedAfterMs / 1000).toFixed(1)} s after its 202`
        : `not readable ${ORDINARY_STORED_WITHIN_MS / 1000} s after its 202 (last answer: ${lastAnswer.slice(0, 200)})`,
      ok: ordinaryRead !== undefined && sameJson(ordinary.data, ordinaryRead.data),
    };

    // 3. Each case's outcome. Once the ordinary event is readable, every case before it on its
    //    partition is settled; without it, each read is still bounded by its token's wait.
    const deadLetters = await listDeadLetters();
    for (const { c, id, status, body } of posted) {
      const row = await outcomeOf(c, id, status, body, deadLetters);
      if (c.inBatch && status === 202) {
        const neighbours = await Promise.all(
          ['before', 'after'].map(async (side) => {
            const read = await readSettled(`/v1/events/${id}-${side}?${afterToken(body.token)}`);
            const stored =
              read.status === 200 &&
              sameJson(JSON.parse(NEIGHBOUR_DATA), ((await read.json()) as { data: unknown }).data);
            return { side, stored };
          }),
        );
        row.outcome += `; neighbours: ${neighbours.map((n) => `${n.side} ${n.stored ? 'stored, equal' : 'NOT stored'}`).join(', ')}`;
        row.ok &&= neighbours.every((n) => n.stored);
      }
      rows.push(row);
    }

    const table = markdownTable([...rows, ordinaryRow]);
    process.stdout.write(`\nPoison table (${localStore ? 'local store: FerretDB' : 'MongoDB'}):\n${table}\n`);
    expect(rows.filter((row) => !row.ok).map((row) => `${row.name}: ${row.outcome}`)).toEqual([]);
    expect(ordinaryRow).toMatchObject({ ok: true });
  }, 120_000);

  async function listDeadLetters(): Promise<Map<string, string>> {
    const response = await readSettled('/v1/deadletters?limit=100');
    if (response.status !== 200)
      throw new Error(`/v1/deadletters: ${response.status} ${await response.text()}`);
    const reasons = new Map<string, string>();
    const { items } = (await response.json()) as { items: Array<{ id?: string; reason: string }> };
    for (const item of items) if (item.id) reasons.set(item.id, item.reason);
    return reasons;
  }

  async function outcomeOf(
    c: PoisonCase,
    id: string,
    status: number,
    body: Record<string, unknown>,
    deadLetters: Map<string, string>,
  ): Promise<Row> {
    const expected = c.expected;
    const expectedText =
      expected.kind === 'rejected'
        ? `400 naming ${expected.fields.join(', ')}`
        : expected.kind === 'stored'
          ? 'stored, read back equal'
          : `MongoDB: stored, read back equal; local store: dead-lettered (${expected.localReason.source})`;
    const row = (outcome: string, ok: boolean): Row => ({
      name: c.name,
      expected: expectedText,
      outcome,
      ok,
    });

    if (status !== 202) {
      const fields = ((body.errors as Array<{ field: string; message: string }> | undefined) ?? []).map(
        (e) => e.field,
      );
      const message = (body.errors as Array<{ message: string }> | undefined)?.[0]?.message ?? body.detail;
      return row(
        `${status} naming ${fields.join(', ') || '(no field)'}: ${String(message)}`,
        expected.kind === 'rejected' && status === 400 && sameJson(fields, expected.fields),
      );
    }
    if (expected.kind === 'rejected') return row('202 accepted (expected a 400)', false);

    const token = body.token as string;
    const statusRead = await readSettled(`/v1/events/${id}/status?${afterToken(token)}`);
    if (statusRead.status !== 200) {
      return row(`not settled: status answered ${statusRead.status} ${await statusRead.text()}`, false);
    }
    const state = (await statusRead.json()) as { status: string; reason?: string };
    if (state.status === 'stored') {
      const read = await readSettled(`/v1/events/${id}?${afterToken(token)}`);
      if (read.status !== 200)
        return row(`stored, but its read answered ${read.status} ${await read.text()}`, false);
      const event = (await read.json()) as Record<string, unknown>;
      const sent = JSON.parse(c.data) as unknown;
      const attributesSent = JSON.parse(`{"id":"${id}"${c.attributes ?? ''}}`) as Record<string, unknown>;
      const attributesKept = Object.entries(attributesSent).every(([name, value]) => event[name] === value);
      const equal = sameJson(sent, event.data) && attributesKept;
      return row(equal ? 'stored, read back equal' : 'stored, read back DIFFERENT', equal);
    }
    if (state.status === 'dead-lettered') {
      const listed = deadLetters.get(id);
      const reason = state.reason ?? '';
      const ok =
        expected.kind === 'stored-or-dead-lettered-locally' &&
        localStore &&
        expected.localReason.test(reason) &&
        listed === reason;
      return row(
        `dead-lettered: ${reason}${listed === reason ? ' (also in /v1/deadletters)' : ' (NOT in /v1/deadletters)'}`,
        ok,
      );
    }
    return row(`status ${state.status} after its token was applied`, false);
  }
});
