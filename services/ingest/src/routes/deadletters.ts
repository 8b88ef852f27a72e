import { type RoutePlugin, requireScope, SCOPES } from '@splitstream/shared';
import type { FastifyRequest } from 'fastify';
import type { IngestConfig } from '../config';
import { decodedBodyHook } from '../domain/body';
import { MongoDeadLetters, storeUnavailable } from '../domain/deadletter-store';
import { type ReplayDeps, replayDeadLetters, toReplayRequest } from '../domain/replay';
import { REPLAY_BODY_LIMIT_BYTES, REPLAY_CONTENT_TYPE, replaySchema } from '../schemas/deadletters';

export interface DeadLetterRoutesOptions {
  config: IngestConfig;
}

const requireAdmin = async (request: FastifyRequest) => requireScope(request, SCOPES.admin);
// Fastify would parse text/plain too (and the body would be a string): only JSON is a filter. Like
// every body, it may come gzip-compressed.
const jsonBody = decodedBodyHook([REPLAY_CONTENT_TYPE], REPLAY_BODY_LIMIT_BYTES);

/** POST /v1/deadletters/replay: re-produce the tenant's dead letters through the ingest pipeline. */
export const deadLetterRoutes: RoutePlugin<DeadLetterRoutesOptions> = async (app, { config }) => {
  const { requests, replayedEvents, replaySkipped } = app.ingestMetrics;
  const source = new MongoDeadLetters(app.primaryStore.db);

  app.addHook('onResponse', async (request, reply) => {
    requests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  app.post(
    '/v1/deadletters/replay',
    {
      schema: replaySchema(config.KAFKA_TOPIC),
      bodyLimit: REPLAY_BODY_LIMIT_BYTES,
      onRequest: requireAdmin,
      preParsing: jsonBody,
    },
    async (request, reply) => {
      const replay = toReplayRequest(request.body);
      const deps: ReplayDeps = {
        source,
        submit: (messages) => app.pipeline.submit(messages),
        topic: config.KAFKA_TOPIC,
        retryAfterSeconds: config.INGEST_RETRY_AFTER_SECONDS,
        storeError: storeUnavailable(config.INGEST_RETRY_AFTER_SECONDS),
        log: request.log,
        onReplayed: (count) => replayedEvents.inc(count),
        onSkipped: (code) => replaySkipped.inc({ reason: code }),
      };
      // Only the caller's own tenant, from the gateway's signed principal; never from the body.
      const result = await replayDeadLetters(deps, request.principal.tenant, replay);
      request.log.info(
        {
          dryRun: result.dryRun,
          matched: result.matched,
          replayed: result.replayed,
          skipped: result.skipped.length,
          unmarked: result.unmarked?.length ?? 0,
        },
        'dead-letter replay',
      );
      return reply.code(result.dryRun ? 200 : 202).send(result);
    },
  );
};
