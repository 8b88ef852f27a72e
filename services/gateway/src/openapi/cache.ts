import { UnavailableError } from '@splitstream/shared';
import type { FastifyBaseLogger } from 'fastify';
import type { UpstreamGroup } from '../upstream/group';
import { type MergeOptions, mergeOpenApi, type OpenApiDocument } from './merge';

/** While a service's document is missing, try again this soon instead of waiting a full refresh period. */
const INCOMPLETE_RETRY_MS = 5_000;

/**
 * The merged public document: built from the services' /openapi.json (fetched through the same
 * balanced, health-checked pools as the traffic), kept, and rebuilt in the background once older
 * than the refresh period. A service that cannot be reached keeps its last good document.
 */
export class MergedOpenApi {
  private readonly latest = new Map<string, OpenApiDocument>();
  private merged: OpenApiDocument | undefined;
  private builtAt = 0;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly groups: UpstreamGroup[],
    private readonly options: MergeOptions & { refreshMs: number; retryAfterSeconds: number },
    private readonly logger: FastifyBaseLogger,
  ) {}

  /** The current document; waits for a first build, refreshes a stale one in the background. */
  async get(): Promise<OpenApiDocument> {
    const complete = this.latest.size === this.groups.length;
    const age = Date.now() - this.builtAt;
    if (!this.merged) await this.refresh();
    else if (age > this.options.refreshMs || (!complete && age > INCOMPLETE_RETRY_MS)) void this.refresh();
    if (!this.merged) {
      throw new UnavailableError('the API description is not available yet: no service answered', {
        retryAfterSeconds: this.options.retryAfterSeconds,
      });
    }
    return this.merged;
  }

  refresh(): Promise<void> {
    this.refreshing ??= this.build().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async build(): Promise<void> {
    await Promise.all(
      this.groups.map(async (group) => {
        try {
          this.latest.set(group.name, await fetchDocument(group));
        } catch (error) {
          this.logger.warn({ upstream: group.name, err: error }, 'could not fetch the OpenAPI document');
        }
      }),
    );
    this.builtAt = Date.now();
    if (this.latest.size === 0) return;
    this.merged = mergeOpenApi(
      this.groups.flatMap((g) => {
        const document = this.latest.get(g.name);
        return document ? [{ name: g.name, document }] : [];
      }),
      this.options,
    );
  }
}

async function fetchDocument(group: UpstreamGroup): Promise<OpenApiDocument> {
  const response = await group.forward({
    method: 'GET',
    path: '/openapi.json',
    headers: { accept: 'application/json' },
    idempotent: true,
  });
  const { body } = response;
  if (response.statusCode !== 200) {
    if (!Buffer.isBuffer(body)) await body.dump();
    throw new Error(`GET /openapi.json answered ${response.statusCode}`);
  }
  const document = (
    Buffer.isBuffer(body) ? JSON.parse(body.toString('utf8')) : await body.json()
  ) as OpenApiDocument;
  if (typeof document?.openapi !== 'string' || !document.openapi.startsWith('3.')) {
    throw new Error('GET /openapi.json is not an OpenAPI 3 document');
  }
  return document;
}
