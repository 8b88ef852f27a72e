import { INTERNAL_HEADERS, signPrincipal, UnauthorizedError, verifyPrincipal } from '../src';

const SECRET = 'a-test-secret-of-some-length';

describe('internal auth', () => {
  it('accepts what the gateway signed', () => {
    const headers = signPrincipal(SECRET, { tenant: 'acme', scopes: ['events:read', 'events:write'] });
    expect(verifyPrincipal(SECRET, headers)).toEqual({
      tenant: 'acme',
      scopes: ['events:read', 'events:write'],
    });
  });

  it('refuses missing, forged, tampered and expired credentials', () => {
    const headers = signPrincipal(SECRET, { tenant: 'acme', scopes: ['events:read'] });
    expect(() => verifyPrincipal(SECRET, {})).toThrow(UnauthorizedError);
    expect(() => verifyPrincipal('another-secret-entirely', headers)).toThrow(/invalid/);
    expect(() => verifyPrincipal(SECRET, { ...headers, [INTERNAL_HEADERS.tenant]: 'evil' })).toThrow(
      /invalid/,
    );
    expect(() => verifyPrincipal(SECRET, { ...headers, [INTERNAL_HEADERS.scopes]: 'events:admin' })).toThrow(
      /invalid/,
    );
    expect(() => verifyPrincipal(SECRET, headers, Date.now() + 5 * 60_000)).toThrow(/expired/);
  });
});
