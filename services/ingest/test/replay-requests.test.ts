import { gzipSync } from 'node:zlib';
import { SCOPES } from '@splitstream/shared';
import { uniqueName } from '@splitstream/shared/testing';
import { ingestSuite, writeHeaders } from './helpers';
import { adminHeaders, postReplay } from './replay-fixtures';

describe('POST /v1/deadletters/replay: requests refused or matching nothing', () => {
  const suite = ingestSuite({ partitions: 1 });
  const tenant = uniqueName('replay-requests');
  const replay = (body: unknown, asTenant = tenant, headers = adminHeaders(asTenant)) =>
    postReplay(suite.app, body, headers);

  it('answers 403 without the events:admin scope', async () => {
    const response = await replay(
      { dryRun: true },
      tenant,
      writeHeaders(tenant, [SCOPES.write, SCOPES.read]),
    );
    expect(response.statusCode).toBe(403);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().detail).toContain('events:admin');
  });

  it.each([
    ['an impossible date', { filter: { since: '2026-02-30T00:00:00Z' } }, '/filter/since'],
    ['a date that is not RFC 3339', { filter: { until: 'yesterday' } }, '/filter/until'],
    ['a limit of 0', { limit: 0 }, '/limit'],
    ['a limit over 1000', { limit: 1001 }, '/limit'],
    ['a misspelt criterion', { filter: { tpye: 'x' } }, '/filter/tpye'],
    ['an unknown reason code', { filter: { reason: 'broken' } }, '/filter/reason'],
    ['an empty id', { filter: { ids: [''] } }, '/filter/ids/0'],
    // Values no event can hold: a 400, not the store's error (U+0000 in a query was a 500).
    ['an id with U+0000', { filter: { ids: ['a', 'b\u0000'] } }, '/filter/ids/1'],
    ['a type with a control character', { filter: { type: 'a\u0007' } }, '/filter/type'],
    ['a source with white space', { filter: { source: '/a b' } }, '/filter/source'],
    ['a dryRun that is not a boolean', { dryRun: 'yes' }, '/dryRun'],
    ['a cursor not of the documented form', { cursor: 'bm90LWEtY3Vyc29y' }, '/cursor'],
    ['an array body', [], '/'],
  ])('answers 400 for %s, naming the field', async (_what, body, field) => {
    const response = await replay(body);
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('names every bad field at once', async () => {
    const response = await replay({
      filter: { reason: 'nope', extra: 1, since: '2026-02-30T00:00:00Z' },
      limit: 'ten',
    });
    expect(response.statusCode).toBe(400);
    const errors: { field: string; message: string }[] = response.json().errors;
    expect(errors.map((e) => e.field).sort()).toEqual([
      '/filter/extra',
      '/filter/reason',
      '/filter/since',
      '/limit',
    ]);
    expect(errors.find((e) => e.field === '/filter/reason')?.message).toMatch(
      /must be one of .*invalid-event/,
    );
  });

  // How two fields relate is no schema's to say: an empty range is an empty replay, not a 400.
  it.each([
    ['until equal to since', '2026-11-26T00:00:00Z'],
    ['until before since', '2026-11-25T00:00:00Z'],
  ])('matches nothing with %s', async (_what, until) => {
    const response = await replay({ filter: { since: '2026-11-26T00:00:00Z', until }, dryRun: true });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ matched: 0, replayed: 0 });
  });

  it('takes a gzip body like every route, and refuses other encodings with 415', async () => {
    const post = (encoding: string, payload: Buffer | string) =>
      suite.app.inject({
        method: 'POST',
        url: '/v1/deadletters/replay',
        headers: {
          ...adminHeaders(tenant),
          'content-type': 'application/json',
          'content-encoding': encoding,
        },
        payload,
      });
    const zipped = await post('GZip', gzipSync(JSON.stringify({ dryRun: true, filter: { ids: ['none'] } })));
    expect(zipped.statusCode).toBe(200);
    expect(zipped.json()).toMatchObject({ dryRun: true, matched: 0 });
    // Before, the header was ignored: plain JSON labelled gzip was taken, a real gzip body was a 400.
    expect((await post('gzip', '{"dryRun":true}')).statusCode).toBe(400);
    const refused = await post('br', '{"dryRun":true}');
    expect(refused.statusCode).toBe(415);
    expect(refused.json().detail).toContain('Content-Encoding');
  });

  it('answers 400 for a null or empty body, 415 without JSON', async () => {
    const post = (headers: Record<string, string>, payload?: string) =>
      suite.app.inject({
        method: 'POST',
        url: '/v1/deadletters/replay',
        headers: { ...adminHeaders(tenant), ...headers },
        ...(payload === undefined ? {} : { payload }),
      });
    const nullBody = await post({ 'content-type': 'application/json' }, 'null');
    expect(nullBody.statusCode).toBe(400);
    expect(nullBody.json().errors).toEqual([{ field: '/', message: expect.stringContaining('JSON object') }]);
    expect((await post({ 'content-type': 'application/json' }, '')).statusCode).toBe(400);
    for (const [headers, payload] of [
      [{ 'content-type': 'text/plain' }, '{}'],
      [{}, undefined],
    ] as const) {
      const refused = await post(headers, payload);
      expect(refused.statusCode).toBe(415);
      expect(refused.json().detail).toContain('application/json');
    }
  });
});
