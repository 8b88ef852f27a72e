import { classifyFailure, FAILURE_KINDS, isSafeToRetry } from '../../src/upstream/errors';
import { clientResponseHeaders, upstreamRequestHeaders } from '../../src/upstream/headers';

const error = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, cause });

describe('upstream failure classification', () => {
  it('tells a connection that never happened from one that broke after sending', () => {
    expect(classifyFailure(error('ECONNREFUSED'))).toBe(FAILURE_KINDS.notSent);
    expect(classifyFailure(error('UND_ERR_CONNECT_TIMEOUT'))).toBe(FAILURE_KINDS.notSent);
    expect(classifyFailure(error('UND_ERR_SOCKET', error('ECONNRESET')))).toBe(FAILURE_KINDS.maybeSent);
    expect(classifyFailure(error('UND_ERR_HEADERS_TIMEOUT'))).toBe(FAILURE_KINDS.timeout);
    expect(classifyFailure(new Error('what'))).toBe(FAILURE_KINDS.other);
    // The socket error may sit in the cause chain.
    expect(classifyFailure(new Error('wrapped', { cause: error('ECONNREFUSED') }))).toBe(
      FAILURE_KINDS.notSent,
    );
  });

  it('retries a write only when it cannot have been sent', () => {
    expect(isSafeToRetry(FAILURE_KINDS.notSent, false)).toBe(true);
    expect(isSafeToRetry(FAILURE_KINDS.maybeSent, false)).toBe(false);
    expect(isSafeToRetry(FAILURE_KINDS.timeout, false)).toBe(false);
    expect(isSafeToRetry(FAILURE_KINDS.other, false)).toBe(false);
    expect(isSafeToRetry(FAILURE_KINDS.maybeSent, true)).toBe(true);
    expect(isSafeToRetry(FAILURE_KINDS.timeout, true)).toBe(false);
  });
});

describe('forwarded headers', () => {
  it('drops internal, hop-by-hop and credential headers and adds the gateway’s', () => {
    const headers = upstreamRequestHeaders(
      {
        host: 'gateway',
        authorization: 'Bearer k',
        'x-api-key': 'k',
        cookie: 'c=1',
        connection: 'keep-alive, x-custom-hop',
        'x-custom-hop': '1',
        'transfer-encoding': 'chunked',
        'content-length': '12',
        'x-splitstream-tenant': 'evil',
        'X-SPLITSTREAM-SIGNATURE': 'forged',
        'content-type': 'application/json',
        'x-forwarded-for': '10.0.0.1',
      },
      { 'x-splitstream-tenant': 'acme', 'x-request-id': 'r1' },
      { ip: '127.0.0.1', protocol: 'http' },
    );
    expect(headers).toEqual({
      'content-type': 'application/json',
      'x-forwarded-for': '10.0.0.1, 127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-splitstream-tenant': 'acme',
      'x-request-id': 'r1',
    });
  });

  it('passes the upstream response headers but the hop-by-hop ones', () => {
    expect(
      clientResponseHeaders({
        'content-type': 'a',
        connection: 'close',
        'keep-alive': 'timeout=5',
        etag: undefined,
      }),
    ).toEqual({ 'content-type': 'a' });
  });
});
