import underPressure from '@fastify/under-pressure';
import { type CloudEvent, EVENT_LIMITS, requireScope, SCOPES, SplitstreamError } from '@splitstream/shared';
import type { FastifyError, FastifyPluginAsync, FastifyRequest, FastifySchema } from 'fastify';
import type { IngestConfig } from '../config';
import { decodedBodyHook } from '../domain/body';
import { parseBatch, parseEvent, tokenOf, toMessages } from '../domain/events';
import { IngestUnavailableError, UNAVAILABLE_REASONS } from '../errors';
import {
  BATCH_CONTENT_TYPES,
  postBatchSchema,
  postEventSchema,
  SINGLE_CONTENT_TYPES,
} from '../schemas/events';

export interface EventRoutesOptions {
  config: IngestConfig;
}

const REASON_BY_STATUS: Record<number, string> = {
  400: 'invalid',
  401: 'unauthorized',
  403: 'forbidden',
  413: 'too_large',
  415: 'unsupported_media_type',
  503: 'unavailable',
};

/** The label of ingest_rejections_total for an error answered by the problem handler. */
export function rejectionReason(error: unknown): string {
  if (error instanceof IngestUnavailableError) return error.reason;
  const code = (error as FastifyError).code;
  if (code === 'FST_ERR_CTP_INVALID_JSON_BODY' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return 'malformed';
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return 'too_large';
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return 'unsupported_media_type';
  const status = error instanceof SplitstreamError ? error.status : (error as FastifyError).statusCode;
  return REASON_BY_STATUS[status ?? 500] ?? 'error';
}

// The route's schema validates the body (attachValidation: the verdict is the schema's); the
// handler explains a refusal with cloudEventErrors, which names every fault in CloudEvents terms
// and adds the content rules no JSON Schema can state (nesting depth, surrogates, `__proto__`).

const requireWrite = async (request: FastifyRequest) => requireScope(request, SCOPES.write);

/** POST /v1/events and /v1/events/batch. */
export const eventRoutes: FastifyPluginAsync<EventRoutesOptions> = async (app, { config }) => {
  const topic = config.KAFKA_TOPIC;
  const { requests, acceptedEvents, rejections } = app.ingestMetrics;
  const maxBodyBytes = EVENT_LIMITS.maxBatchBytes;

  // `__proto__` and `constructor.prototype` keys are parsed as plain own properties (JSON.parse
  // never sets a prototype) so that cloudEventErrors refuses them with a 400 naming the field,
  // where Fastify's default parser answers a 400 that says neither which field nor why.
  const jsonParser = app.getDefaultJsonParser('ignore', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    ['application/json', 'application/cloudevents+json', 'application/cloudevents-batch+json'],
    { parseAs: 'string' },
    jsonParser,
  );

  // A saturated event loop sheds ingest requests at once (503) rather than queueing them.
  await app.register(underPressure, {
    maxEventLoopDelay: config.INGEST_MAX_EVENT_LOOP_DELAY_MS,
    pressureHandler: () =>
      Promise.reject(
        new IngestUnavailableError(UNAVAILABLE_REASONS.eventLoop, 'ingest is overloaded; retry shortly', {
          retryAfterSeconds: config.INGEST_RETRY_AFTER_SECONDS,
        }),
      ),
  });

  app.addHook('onError', async (_request, _reply, error) => {
    rejections.inc({ reason: rejectionReason(error) });
  });
  app.addHook('onResponse', async (request, reply) => {
    requests.inc({ route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  const writeRoute = <S extends FastifySchema>(schema: S, contentTypes: readonly string[]) => ({
    schema,
    bodyLimit: maxBodyBytes,
    attachValidation: true,
    onRequest: requireWrite,
    preParsing: decodedBodyHook(contentTypes, maxBodyBytes),
  });
  /** Produces the events of one request and answers with the token covering them. */
  const accept = async (tenant: string, events: CloudEvent[], receivedAt: Date, batch: boolean) => {
    const written = await app.pipeline.submit(toMessages(tenant, events, receivedAt, batch));
    acceptedEvents.inc(events.length);
    return tokenOf(topic, written);
  };

  app.post('/v1/events', writeRoute(postEventSchema(topic), SINGLE_CONTENT_TYPES), async (request, reply) => {
    const receivedAt = new Date();
    const event = parseEvent(request.body, request.validationError);
    const token = await accept(request.principal.tenant, [event], receivedAt, false);
    return reply.code(202).send({ id: event.id, token });
  });

  app.post(
    '/v1/events/batch',
    writeRoute(postBatchSchema(topic), BATCH_CONTENT_TYPES),
    async (request, reply) => {
      const receivedAt = new Date();
      const events = parseBatch(request.body, request.validationError);
      const token = await accept(request.principal.tenant, events, receivedAt, true);
      return reply.code(202).send({ accepted: events.length, ids: events.map((e) => e.id), token });
    },
  );
};
