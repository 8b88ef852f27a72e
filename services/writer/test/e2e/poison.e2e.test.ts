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
 * Bodies are JSON text written by hand: JSON.stringify cannot write a `-0` or 2^64 literal, and a
 * lone surrogate must be sent as the `\ud800` escape a client would write.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { DATA_LIMITS, SCOPES } from '@splitstream/shared';
import {
  type ChildService,
  createTestTopic,
  REPO_ROOT,
  removeTestData,
  SERVICE_SCRIPT,
  spawnService,
  testInfra,
  uniqueName,
} from '@splitstream/shared/testing';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

const infra = testInfra();
const SECRET = `poison-test-${randomBytes(8).toString('hex')}`;
const REPORT = join(__dirname, 'POISON-REPORT.md');
/** From the ordinary event's 202 until it must be readable; it waits behind every poison case. */
const ORDINARY_STORED_WITHIN_MS = 20_000;
/** One read's bound on the consistency token (a 503 past it is retried until the deadline). */
const READ_MAX_WAIT_MS = 5_000;

type Expected =
  /** 400 at ingest naming these fields. */
  | { kind: 'rejected'; fields: string[] }
  | { kind: 'stored' }
  /**
   * Stored by MongoDB; the local store (FerretDB over PostgreSQL) refuses it, so there the writer
   * dead-letters it with this reason, and a replay into a real MongoDB stores it.
   */
  | { kind: 'stored-or-dead-lettered-locally'; localReason: RegExp };

interface PoisonCase {
  name: string;
  /** `data` as JSON text. */
  data: string;
  /** The `type` attribute as JSON text (default "com.example.poison"). */
  type?: string;
  /** More attributes as JSON text, starting with a comma. */
  attributes?: string;
  /**
   * Posted as the middle event of a batch of three, between two ordinary events: one Kafka send, so
   * most likely one insert of the writer, where the local store keeps the documents before a refused
   * one, drops those after it and names none of them. Both neighbours must be stored.
   */
  inBatch?: boolean;
  expected: Expected;
}

const NEIGHBOUR_DATA = '{"neighbour":true}';
const deep = (levels: number) => `${'{"a":'.repeat(levels)}"leaf"${'}'.repeat(levels)}`;
const tooDeepPointer = `/data${'/a'.repeat(DATA_LIMITS.maxDepth)}`;

const CASES: PoisonCase[] = [
  {
    name: 'U+0000 in data strings',
    data: '{"text":"a\\u0000b","list":["\\u0000"]}',
    expected: { kind: 'stored-or-dead-lettered-locally', localReason: /^rejected-by-store: .*22P05/ },
  },
  {
    name: 'U+0000 in a data string, in the middle of a batch of three',
    data: '{"text":"\\u0000"}',
    inBatch: true,
    expected: { kind: 'stored-or-dead-lettered-locally', localReason: /^rejected-by-store: .*22P05/ },
  },
  {
    name: 'U+0000 in an object key',
    data: '{"ok":1,"nested":{"a\\u0000b":1}}',
    expected: { kind: 'rejected', fields: ['/data/nested/a\u0000b'] },
  },
  {
    name: 'U+0000 in attributes (type, an extension)',
    data: '{"ok":1}',
    type: '"com.example\\u0000poison"',
    attributes: ',"note":"a\\u0000b"',
    expected: { kind: 'rejected', fields: ['/type', '/note'] },
  },
  {
    name: 'lone high surrogate in a data string',
    data: '{"s":"x\\ud800y"}',
    expected: { kind: 'rejected', fields: ['/data/s'] },
  },
  {
    name: 'lone low surrogate in an object key',
    data: '{"\\udc00":1}',
    expected: { kind: 'rejected', fields: ['/data/\udc00'] },
  },
  {
    name: 'lone surrogate in an attribute',
    data: '{"ok":1}',
    attributes: ',"note":"\\ud83d"',
    expected: { kind: 'rejected', fields: ['/note'] },
  },
  {
    name: 'surrogate pair (emoji as escapes), the control case',
    data: '{"s":"\\ud83d\\ude00","\\ud83d\\ude00":1}',
    attributes: ',"note":"\\ud83d\\ude00"',
    expected: { kind: 'stored' },
  },
  {
    name: 'nesting 150 deep',
    data: deep(150),
    expected: { kind: 'rejected', fields: [tooDeepPointer] },
  },
  {
    name: `nesting ${DATA_LIMITS.maxDepth} deep (the bound)`,
    data: deep(DATA_LIMITS.maxDepth),
    expected: { kind: 'stored' },
  },
  {
    name: 'an object with 5,000 keys',
    data: `{${Array.from({ length: 5000 }, (_, i) => `"key${i}":${i}`).join(',')}}`,
    expected: { kind: 'stored' },
  },
  {
    name: '`$` keys',
    data: '{"$set":{"a":1},"nested":{"$inc":2,"$":3}}',
    expected: { kind: 'stored-or-dead-lettered-locally', localReason: /^rejected-by-store: .*invalid key/ },
  },
  {
    name: '`.` keys',
    data: '{"a.b":1,"nested":{"c.d.e":2}}',
    expected: { kind: 'stored-or-dead-lettered-locally', localReason: /^rejected-by-store: .*invalid key/ },
  },
  {
    name: 'empty keys',
    data: '{"":1,"nested":{"":{"":2}}}',
    expected: { kind: 'stored' },
  },
  {
    name: '1e308 (and its neighbours)',
    data: '{"max":1e308,"min":-1e308,"tiny":5e-324}',
    expected: { kind: 'stored' },
  },
  {
    name: '-0',
    data: '{"negativeZero":-0,"list":[-0,-0.0]}',
    expected: { kind: 'stored' },
  },
  {
    name: 'integers beyond 2^63',
    data: '{"twoTo63":9223372036854775808,"twoTo64":18446744073709551616,"below":-9223372036854775809}',
    expected: { kind: 'stored' },
  },
  {
    name: '`__proto__` key',
    data: '{"ok":1,"__proto__":{"polluted":true}}',
    expected: { kind: 'rejected', fields: ['/data/__proto__'] },
  },
  {
    name: '`constructor.prototype` keys',
    data: '{"constructor":{"prototype":{"polluted":true}}}',
    expected: { kind: 'rejected', fields: ['/data/constructor'] },
  },
  {
    name: '`constructor` keys',
    data: '{"constructor":"plain","nested":{"constructor":{"name":"x"}}}',
    expected: { kind: 'stored' },
  },
];

interface Row {
  name: string;
  expected: string;
  outcome: string;
  ok: boolean;
}

function apiKey(tenant: string, scopes: string[]) {
  const key = `sk_test_${randomBytes(16).toString('hex')}`;
  return {
    key,
    record: { id: 'poison', hash: createHash('sha256').update(key).digest('hex'), tenant, scopes },
  };
}

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

/**
 * A table cell: JSON-escaped where the text itself would not show (U+0000, surrogates), a deep
 * pointer's repeated `/a` written once with its count, `|` escaped.
 */
function cell(text: string): string {
  const shown = JSON.stringify(text)
    .slice(1, -1)
    .replace(/[\ud800-\udfff]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`)
    .replace(/(\/a){3,}/g, (run) => `(/a)×${run.length / 2}`);
  return (shown.length > 300 ? `${shown.slice(0, 297)}…` : shown).replace(/\|/g, '\\|');
}

describe('poison suite: every poison event ends in a named 400, a faithful store or a dead letter, and the pipeline moves on', () => {
  const tenant = uniqueName('poison');
  const subject = uniqueName('poison-subject');
  const { key, record } = apiKey(tenant, [SCOPES.read, SCOPES.write]);
  const services: ChildService[] = [];
  let admin: Admin;
  let topic: string;
  let deadLetterTopic: string;
  let gateway: ChildService;
  let localStore = false;
  const rows: Row[] = [];
  let ordinaryRow: Row | undefined;

  const call = (path: string, init: RequestInit = {}) =>
    fetch(`${gateway.url}${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${key}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });

  beforeAll(async () => {
    admin = new Kafka({
      clientId: 'poison-test',
      brokers: infra.brokers,
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    topic = await createTestTopic(admin, 'poison-events', 3);
    deadLetterTopic = await createTestTopic(admin, 'poison-dlq', 1);
    // The local store says what it is in buildInfo; a real MongoDB has no ferretdbVersion.
    const client = await new MongoClient(infra.writeUri, { serverSelectionTimeoutMS: 5_000 }).connect();
    localStore = 'ferretdbVersion' in (await client.db('admin').command({ buildInfo: 1 }));
    await client.close();
    const env = {
      INTERNAL_AUTH_SECRET: SECRET,
      KAFKA_BROKERS: infra.brokers.join(','),
      KAFKA_TOPIC: topic,
      MONGO_WRITE_URI: infra.writeUri,
      MONGO_READ_URI: infra.readUri,
    };
    const started = await Promise.all([
      spawnService('writer', SERVICE_SCRIPT('writer'), {
        ...env,
        KAFKA_GROUP_ID: uniqueName('poison-writer'),
        KAFKA_DEAD_LETTER_TOPIC: deadLetterTopic,
      }),
      spawnService('ingest', SERVICE_SCRIPT('ingest'), env),
      spawnService('query', SERVICE_SCRIPT('query'), env),
    ]);
    services.push(...started);
    const [, ingest, query] = started as [ChildService, ChildService, ChildService];
    gateway = await spawnService('gateway', SERVICE_SCRIPT('gateway'), {
      ...env,
      INGEST_UPSTREAMS: ingest.url,
      QUERY_UPSTREAMS: query.url,
      API_KEYS: JSON.stringify([record]),
    });
    services.push(gateway);
  }, 90_000);

  afterAll(async () => {
    if (rows.length === CASES.length && ordinaryRow) writeReport([...rows, ordinaryRow], localStore);
    await Promise.all(services.map((s) => s.kill('SIGTERM')));
    await admin.deleteTopics({ topics: [topic, deadLetterTopic] }).catch(() => undefined);
    await admin.disconnect();
    await removeTestData(infra.writeUri, { tenants: [tenant], topics: [topic] });
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
            const read = await call(
              `/v1/events/${id}-${side}?after=${body.token}&maxWaitMs=${READ_MAX_WAIT_MS}`,
            );
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
    const response = await call('/v1/deadletters?limit=100');
    const reasons = new Map<string, string>();
    if (response.status !== 200) return reasons;
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
    const statusRead = await call(`/v1/events/${id}/status?after=${token}&maxWaitMs=${READ_MAX_WAIT_MS}`);
    if (statusRead.status !== 200) {
      return row(`not settled: status answered ${statusRead.status} ${await statusRead.text()}`, false);
    }
    const state = (await statusRead.json()) as { status: string; reason?: string };
    if (state.status === 'stored') {
      const read = await call(`/v1/events/${id}?after=${token}&maxWaitMs=${READ_MAX_WAIT_MS}`);
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

function markdownTable(rows: Row[]): string {
  const lines = ['| case | expected | outcome | as expected |', '|---|---|---|---|'];
  for (const row of rows) {
    lines.push(
      `| ${cell(row.name)} | ${cell(row.expected)} | ${cell(row.outcome)} | ${row.ok ? 'yes' : '**NO**'} |`,
    );
  }
  return lines.join('\n');
}

function writeReport(rows: Row[], localStore: boolean): void {
  let commit = 'unknown';
  try {
    const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT }).toString().trim();
    commit = git('rev-parse', '--short', 'HEAD');
    // The services ran from dist built from the work tree, which may hold more than the commit.
    if (git('status', '--porcelain', '--', 'services/*/src', 'shared/src') !== '') {
      commit += ' plus uncommitted changes under services/*/src or shared/src';
    }
  } catch {}
  const text = `# Poison suite report

Written by \`services/writer/test/e2e/poison.e2e.test.ts\` on every complete run (the writer's suite in
\`npm test\`). Latest run: ${new Date().toISOString()}, commit ${commit}, store: ${
    localStore ? 'the local store (FerretDB v1 over PostgreSQL)' : 'MongoDB'
  }.

Every case is one event posted through the gateway, all on the same subject (one partition, one
ordering key), in this order, then an ordinary event on that subject. Bodies are JSON text written
by hand (\`\\u0000\` and lone-surrogate escapes, \`-0\` and 2^64 literals). "Read back equal" compares
the JSON value sent with the one \`GET /v1/events/{id}?after=<token>\` answers, as JSON carries them:
\`-0\` reads back as \`0\`, integers beyond 2^53 as the nearest double (2^64 as 18446744073709552000),
key order aside. Dead letters are checked with \`GET /v1/events/{id}/status\` and \`GET /v1/deadletters\`.

${markdownTable(rows)}

Why these outcomes:
- **400 at ingest** for what no MongoDB could store or a JavaScript consumer must not receive: U+0000
  in a key (BSON field names end at U+0000), lone surrogates (BSON strings are UTF-8, which has no form
  for them; the Node driver would silently store U+FFFD instead), nesting deeper than
  ${DATA_LIMITS.maxDepth} levels in \`data\` (MongoDB refuses documents over 100), \`__proto__\` and
  \`constructor.prototype\` keys (prototype pollution); control characters and lone surrogates in
  attributes, which the CloudEvents String type excludes.
- **Dead letter on the local store only**: U+0000 in string values and \`$\`/\`.\` keys are stored by
  MongoDB (5.0 and later for \`$\`/\`.\` field names), but PostgreSQL's JSONB refuses U+0000 (SQLSTATE
  22P05) and FerretDB v1 refuses \`$\`-prefixed and dotted keys (code 2, "invalid key"). The writer
  dead-letters them with reason \`rejected-by-store\` and moves on; a replay into a real MongoDB stores them.
- **The batch of three**: one request, one Kafka send, so most likely one insert of the writer; the
  local store answers a U+0000 refusal for the whole insert (code 1, no per-document write errors) after
  keeping the documents before the culprit and dropping those after it, so the writer must find the
  culprit itself; both neighbours are read back.
`;
  writeFileSync(REPORT, text);
}
