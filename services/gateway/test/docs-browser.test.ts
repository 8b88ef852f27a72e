/**
 * Swagger UI at /docs in a real headless Chromium (Debian's `chromium`, driven by playwright-core):
 * every public operation is listed, and "Try it out" on POST /v1/events with an API key gets 202
 * from the real ingest process (Kafka included). The screenshot is kept in test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApiPath, PUBLIC_ROUTES } from '@splitstream/shared';
import { createTestTopic, testInfra, uniqueName, waitFor } from '@splitstream/shared/testing';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type BrowserContext, chromium } from 'playwright-core';
import {
  type ChildService,
  makeKeys,
  type RunningGateway,
  startGateway,
  startServices,
  urlsOf,
} from './support';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(__dirname, '..', 'test-artifacts');

describe('Swagger UI in a browser', () => {
  const { keys, json } = makeKeys(uniqueName('docs'), uniqueName('docs-other'));
  let admin: Admin;
  let topic: string;
  let services: ChildService[] = [];
  let gateway: RunningGateway;
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} is missing: bash infra/scripts/infra.sh up installs it`);
    admin = new Kafka({ brokers: testInfra().brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    topic = await createTestTopic(admin, 'gateway-docs');
    services = await startServices({ ingest: 1, query: 1, topic });
    gateway = await startGateway({
      API_KEYS: json,
      INGEST_UPSTREAMS: urlsOf(services, 'ingest'),
      QUERY_UPSTREAMS: urlsOf(services, 'query'),
    });
    profile = mkdtempSync(join(tmpdir(), 'gateway-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 1600 },
    });
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await gateway?.close();
    await Promise.all(services.map((s) => s.kill()));
    if (topic) await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('lists every public operation and runs "Try it out" on POST /v1/events with an API key', async () => {
    const page = await context.newPage();
    await page.goto(`${gateway.url}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 30_000 });

    const listed = await page
      .locator('.opblock')
      .evaluateAll((blocks) =>
        blocks.map(
          (b) =>
            `${b.querySelector('.opblock-summary-method')?.textContent?.trim()} ${b
              .querySelector('.opblock-summary-path')
              ?.getAttribute('data-path')}`,
        ),
      );
    for (const route of PUBLIC_ROUTES) expect(listed).toContain(`${route.method} ${openApiPath(route.url)}`);

    // Authorize with the API key scheme.
    await page.locator('.auth-wrapper .authorize').click();
    const apiKeyForm = page.locator('.modal-ux .auth-container').filter({ hasText: 'apiKeyAuth' });
    await apiKeyForm.locator('input').fill(keys.readWrite.key);
    await apiKeyForm.locator('button.authorize').click();
    await page.locator('.modal-ux button.btn-done').first().click();

    const post = page.locator('.opblock-post').filter({
      has: page.locator('.opblock-summary-path[data-path="/v1/events"]'),
    });
    await post.locator('.opblock-summary').click();
    await post.locator('.try-out__btn').click();
    // A plain JSON body: Swagger UI pre-fills the documented example of the optional
    // Content-Encoding header (gzip), which this hand-typed body is not.
    const encoding = post.locator('tr[data-param-name="content-encoding"] input');
    if ((await encoding.count()) > 0) await encoding.fill('');
    const id = uniqueName('browser');
    await post
      .locator('textarea.body-param__text')
      .fill(
        JSON.stringify(
          { specversion: '1.0', id, source: '/docs/browser-test', type: 'com.example.tried' },
          null,
          2,
        ),
      );
    await post.locator('button.execute').click();
    const status = post.locator('.live-responses-table .response .response-col_status').first();
    try {
      await waitFor(async () => (await status.textContent())?.trim() === '202', {
        what: 'a 202 in Swagger UI',
      });
      const body = await post
        .locator('.live-responses-table .response-col_description pre')
        .first()
        .textContent();
      expect(body).toContain(id);
    } finally {
      // The screenshot is kept either way: on failure it shows what the browser got instead.
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'docs-try-it-out.png'), fullPage: true });
    }
  });
});
