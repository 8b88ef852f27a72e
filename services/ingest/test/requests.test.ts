import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { EVENT_LIMITS, SCOPES, signPrincipal } from '@splitstream/shared';
import { uniqueName, waitFor } from '@splitstream/shared/testing';
import { buildIngest, ingestSuite, SECRET, sampleEvent, topicSize, writeHeaders } from './helpers';

/** Every bad-input case gets its status and a problem+json body that names the fault. */
describe('ingest request handling (real broker)', () => {
  const suite = ingestSuite();
  const tenant = uniqueName('tenant');

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    suite.app.inject({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', ...writeHeaders(tenant), ...headers },
      payload: typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload),
    });

  function expectProblem(
    response: { statusCode: number; headers: Record<string, unknown>; json(): unknown },
    status: number,
  ) {
    expect(response.statusCode).toBe(status);
    expect(String(response.headers['content-type'])).toMatch(/^application\/problem\+json/);
    const body = response.json() as { status: number; title: string; detail: string; errors?: unknown[] };
    expect(body.status).toBe(status);
    return body;
  }

  it('accepts a valid event as application/json and application/cloudevents+json', async () => {
    for (const type of ['application/json', 'application/cloudevents+json; charset=utf-8']) {
      const response = await post('/v1/events', sampleEvent(), { 'content-type': type });
      expect(response.statusCode).toBe(202);
    }
    const batch = await post('/v1/events/batch', [sampleEvent()], {
      'content-type': 'application/cloudevents-batch+json',
    });
    expect(batch.statusCode).toBe(202);
    expect(batch.json()).toMatchObject({ accepted: 1 });
  });

  it('refuses requests without valid gateway credentials (401) or without the write scope (403)', async () => {
    const none = await suite.app.inject({ method: 'POST', url: '/v1/events', payload: sampleEvent() });
    expect(expectProblem(none, 401).detail).toMatch(/gateway/);
    const forged = signPrincipal(SECRET, { tenant: 'a', scopes: [SCOPES.write] });
    forged['x-splitstream-tenant'] = 'someone-else';
    expect(expectProblem(await post('/v1/events', sampleEvent(), forged), 401).detail).toMatch(/invalid/);
    const wrongSecret = signPrincipal('another-secret-0123456789', { tenant, scopes: [SCOPES.write] });
    expectProblem(await post('/v1/events', sampleEvent(), wrongSecret), 401);
    const readOnly = writeHeaders(tenant, [SCOPES.read]);
    expect(expectProblem(await post('/v1/events/batch', [sampleEvent()], readOnly), 403).detail).toMatch(
      /events:write/,
    );
  });

  it('answers 415 for content types and encodings it does not take', async () => {
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      ['/v1/events', { 'content-type': 'text/plain' }, /text\/plain/],
      ['/v1/events', { 'content-type': 'application/cloudevents-batch+json' }, /cloudevents-batch\+json/],
      ['/v1/events/batch', { 'content-type': 'application/cloudevents+json' }, /cloudevents\+json/],
      ['/v1/events/batch', { 'content-type': 'application/xml' }, /application\/xml/],
      ['/v1/events', { 'content-type': 'application/json', 'content-encoding': 'br' }, /Content-Encoding br/],
    ];
    for (const [url, headers, detail] of cases) {
      const body = url.endsWith('batch') ? [sampleEvent()] : sampleEvent();
      expect(expectProblem(await post(url, body, headers), 415).detail).toMatch(detail);
    }
    const noType = await suite.app.inject({
      method: 'POST',
      url: '/v1/events',
      headers: writeHeaders(tenant),
      payload: Buffer.from(JSON.stringify(sampleEvent())),
    });
    expect(expectProblem(noType, 415).detail).toMatch(/\(none\)/);
  });

  it('answers 400 for malformed JSON, an empty body and broken gzip', async () => {
    expect(expectProblem(await post('/v1/events', '{"id": "x",'), 400).detail).toMatch(/not valid JSON/);
    expect(expectProblem(await post('/v1/events/batch', '[{]'), 400).detail).toMatch(/not valid JSON/);
    expectProblem(await post('/v1/events', ''), 400);
    const broken = await post('/v1/events', Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    expect(expectProblem(broken, 400).detail).toMatch(/gzip/);
  });

  it('names every bad attribute of a single event', async () => {
    const response = await post('/v1/events', {
      specversion: '0.3',
      id: '',
      type: 'x',
      time: 'today',
      Bad: 1,
    });
    const body = expectProblem(response, 400);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        { field: '/specversion', message: expect.any(String) },
        { field: '/id', message: expect.any(String) },
        { field: '/source', message: expect.stringMatching(/required/i) },
        { field: '/time', message: expect.any(String) },
        { field: '/Bad', message: expect.stringMatching(/extension attribute name/) },
      ]),
    );
    const array = await post('/v1/events', [sampleEvent()]);
    expect(expectProblem(array, 400).errors).toEqual([
      { field: '/', message: expect.stringMatching(/object/) },
    ]);
  });

  it('rejects a whole batch naming each bad index, and writes none of it', async () => {
    const before = await topicSize(suite.admin, suite.topic);
    const events = [
      sampleEvent(),
      sampleEvent(),
      sampleEvent(),
      sampleEvent({ source: undefined }),
      sampleEvent(),
    ];
    (events[1] as Record<string, unknown>).type = 42;
    const body = expectProblem(await post('/v1/events/batch', events), 400);
    expect(body.errors).toEqual([
      { field: '/1/type', message: expect.any(String) },
      { field: '/3/source', message: expect.stringMatching(/required/i) },
    ]);
    expect(body.detail).toMatch(/2 of 5 events are invalid/);
    expect(await topicSize(suite.admin, suite.topic)).toBe(before);

    const notArray = expectProblem(await post('/v1/events/batch', sampleEvent()), 400);
    expect(notArray.errors).toEqual([{ field: '/', message: expect.stringMatching(/array/) }]);
    const empty = expectProblem(await post('/v1/events/batch', []), 400);
    expect(empty.errors?.[0]).toMatchObject({ field: '/', message: expect.stringMatching(/1 to 1000/) });
    const tooMany = Array.from({ length: EVENT_LIMITS.maxBatchEvents + 1 }, () => ({ specversion: '1.0' }));
    expect(expectProblem(await post('/v1/events/batch', tooMany), 400).errors?.[0]).toMatchObject({
      field: '/',
      message: expect.stringMatching(/got 1001/),
    });
  });

  it('answers 413 for a body over the limit before reading it', async () => {
    let pulled = 0;
    // A body that would never end: the answer must come from Content-Length alone.
    const endless = new Readable({
      read() {
        pulled += 1;
        if (pulled < 3) this.push(Buffer.alloc(1024, 0x20));
      },
    });
    const response = await suite.app.inject({
      method: 'POST',
      url: '/v1/events/batch',
      headers: {
        'content-type': 'application/json',
        'content-length': String(EVENT_LIMITS.maxBatchBytes + 1),
        ...writeHeaders(tenant),
      },
      payload: endless,
    });
    expect(expectProblem(response, 413).title).toBe('Payload Too Large');

    // Without Content-Length (chunked) the read stops at the limit.
    const big = JSON.stringify([sampleEvent({ data: 'x'.repeat(EVENT_LIMITS.maxBatchBytes) })]);
    const chunked = await suite.app.inject({
      method: 'POST',
      url: '/v1/events/batch',
      headers: { 'content-type': 'application/json', ...writeHeaders(tenant) },
      payload: Readable.from([Buffer.from(big)]),
    });
    expectProblem(chunked, 413);
  });

  it('answers 413 naming an event over 256 KiB', async () => {
    const data = 'x'.repeat(EVENT_LIMITS.maxEventBytes);
    expect(expectProblem(await post('/v1/events', sampleEvent({ data })), 413).detail).toMatch(/262144/);
    const batch = expectProblem(await post('/v1/events/batch', [sampleEvent(), sampleEvent({ data })]), 413);
    expect(batch.errors).toEqual([{ field: '/1', message: expect.stringMatching(/at most 262144/) }]);
  });

  it('accepts gzip bodies and answers a gzip bomb 413 without inflating it', async () => {
    const events = [sampleEvent(), sampleEvent()];
    const ok = await post('/v1/events/batch', gzipSync(JSON.stringify(events)), {
      'content-encoding': 'gzip',
    });
    expect(ok.statusCode).toBe(202);
    expect(ok.json().ids).toEqual(events.map((e) => e.id));

    // 64 MiB of spaces compress to ~64 KiB, well under the wire limit (see body.test.ts for the inflation bound).
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20), { level: 9 });
    expect(bomb.length).toBeLessThan(EVENT_LIMITS.maxBatchBytes / 8);
    const response = await post('/v1/events/batch', bomb, { 'content-encoding': 'gzip' });
    expect(expectProblem(response, 413).detail).toMatch(/inflates to more than 1048576 bytes/);
  });

  it('counts rejections by reason and accepted events in /metrics', async () => {
    const metrics = (await suite.app.inject('/metrics')).body;
    for (const reason of [
      'unauthorized',
      'forbidden',
      'unsupported_media_type',
      'malformed',
      'invalid',
      'too_large',
    ]) {
      expect(metrics).toMatch(new RegExp(`ingest_rejections_total\\{reason="${reason}"[^}]*\\} [1-9]`));
    }
    expect(metrics).toMatch(/ingest_accepted_events_total\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/ingest_producer_batch_messages_count\{[^}]*\} [1-9]/);
    expect(metrics).toMatch(/ingest_producer_send_duration_seconds_count\{[^}]*outcome="ok"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/ingest_requests_total\{[^}]*route="\/v1\/events"[^}]*status="202"/);
  });

  it('sheds load with 503 + Retry-After while the event loop is saturated', async () => {
    const pressured = await buildIngest(suite.topic, { INGEST_MAX_EVENT_LOOP_DELAY_MS: '5' });
    try {
      const response = await waitFor(
        async () => {
          const until = Date.now() + 300;
          while (Date.now() < until) {
            // Busy-wait on purpose: this is the saturated event loop under test.
          }
          const r = await pressured.inject({
            method: 'POST',
            url: '/v1/events',
            headers: { 'content-type': 'application/json', ...writeHeaders(tenant) },
            payload: sampleEvent(),
          });
          return r.statusCode === 503 ? r : undefined;
        },
        { timeoutMs: 15_000, what: 'a 503 under event-loop pressure' },
      );
      expect(response.headers['retry-after']).toBe('1');
      expect(response.json().detail).toMatch(/overloaded/);
      expect((await pressured.inject('/metrics')).body).toMatch(
        /ingest_rejections_total\{reason="event_loop"/,
      );
    } finally {
      await pressured.close();
    }
  });
});
