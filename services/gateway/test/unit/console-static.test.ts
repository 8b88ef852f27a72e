/**
 * /console is static files only (the built bundle): served without an API key (the page itself
 * holds no data), with a CSP that keeps it to this origin, and absent from the OpenAPI document.
 */
import { existsSync } from 'node:fs';
import { CONSOLE_ROOT } from '../../src/plugins/console';
import { makeKeys, type RunningGateway, startGateway } from '../support';

const { json } = makeKeys('acme', 'globex');

describe('the console files', () => {
  let gateway: RunningGateway;
  beforeAll(async () => {
    if (!existsSync(CONSOLE_ROOT)) throw new Error(`${CONSOLE_ROOT} is missing: npm run build makes it`);
    gateway = await startGateway({
      API_KEYS: json,
      INGEST_UPSTREAMS: 'http://127.0.0.1:9',
      QUERY_UPSTREAMS: 'http://127.0.0.1:9',
    });
  });
  afterAll(() => gateway?.close());

  it('serves the page and its bundle with a same-origin CSP, and redirects /console to /console/', async () => {
    const redirect = await gateway.app.inject('/console');
    expect(redirect.statusCode).toBe(301);
    expect(redirect.headers.location).toBe('/console/');

    const page = await gateway.app.inject('/console/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('<script type="module" src="./console.js">');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
    expect(page.headers['cache-control']).toBe('no-cache');

    const script = await gateway.app.inject('/console/console.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
    expect((await gateway.app.inject('/console/console.css')).statusCode).toBe(200);
    expect((await gateway.app.inject('/console/nope.js')).statusCode).toBe(404);
    expect((await gateway.app.inject('/console/../package.json')).statusCode).toBe(404);
  });

  it('is not part of the public API document', async () => {
    const doc = (await gateway.app.inject('/openapi.json')).json() as { paths?: Record<string, unknown> };
    expect(Object.keys(doc.paths ?? {}).filter((p) => p.startsWith('/console'))).toEqual([]);
  });
});
