import type { Socket } from 'node:net';
import type { FastifyPluginAsyncTypebox, TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import closeWithGrace from 'close-with-grace';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyPluginAsync,
  type FastifyPluginOptions,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from 'fastify';
import { loggerOptions } from './logger';
import { PROBLEM_CONTENT_TYPE } from './problem';
import { buildSchemaValidator } from './validation';

/**
 * The request line and headers together, at most. Node's default (16 KiB) is below what the
 * documented parameters allow: three filters of up to 3,328 characters, each up to 12 bytes
 * percent-encoded, plus a 16 KiB cursor and two 4 KiB tokens. Every service takes the same, so
 * what the gateway accepts it can forward.
 */
export const MAX_HEADER_BYTES = 128 * 1024;

/**
 * Answers the errors Node's HTTP parser raises before any route runs (headers too large, request
 * timeout, a malformed request) as problem+json like every other error, instead of Fastify's own
 * JSON shape, then closes the connection (its state is unknown).
 */
export function problemClientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, title, detail] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [
          431,
          'Request Header Fields Too Large',
          `the request line and headers exceed ${MAX_HEADER_BYTES} bytes`,
        ]
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'the request was not received in time']
        : [400, 'Bad Request', 'the request is not valid HTTP'];
  const body = JSON.stringify({ type: 'about:blank', title, status, detail });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** Fastify server options every service shares (server.ts, and tests that listen). */
export const HTTP_SERVER_OPTIONS = Object.freeze({
  http: { maxHeaderSize: MAX_HEADER_BYTES },
  clientErrorHandler: problemClientErrorHandler,
});

export interface ServiceOptions<C> {
  service: string;
  config: C & { LOG_LEVEL: string };
  /** The service's app plugin (app.ts): registered with the config as its options. */
  app: FastifyPluginAsync<{ config: C }>;
  /** Extra Fastify server options (body limit, trust proxy…). */
  serverOptions?: Record<string, unknown>;
}

export interface RunServerOptions<C> extends Omit<ServiceOptions<C>, 'config'> {
  /** Reads and validates the service's configuration (a failure is the fatal line below). */
  loadConfig: () => C & { HOST: string; PORT: number; LOG_LEVEL: string };
}

/** A service's Fastify instance: handler types come from the route schemas (TypeBox). */
export type ServiceInstance = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** A route plugin whose handlers take their request types from the schemas. */
export type RoutePlugin<O extends FastifyPluginOptions = Record<never, never>> = FastifyPluginAsyncTypebox<O>;

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Builds the Fastify instance of a service, with its app registered, without listening:
 * server.ts listens (runServer), tests inject or listen on the very same instance.
 */
export async function buildService<C>(options: ServiceOptions<C>): Promise<ServiceInstance> {
  const server = Fastify({
    logger: loggerOptions(options.service, options.config.LOG_LEVEL),
    requestIdHeader: 'x-request-id',
    requestIdLogLabel: 'requestId',
    genReqId: () => crypto.randomUUID(),
    // One access line per request (below) instead of Fastify's two, "incoming" and "completed":
    // every line is a write on the request's path.
    disableRequestLogging: true,
    schemaController: { compilersFactory: { buildValidator: buildSchemaValidator } },
    ...HTTP_SERVER_OPTIONS,
    ...options.serverOptions,
  }).withTypeProvider<TypeBoxTypeProvider>();
  // A route's logLevel (health, metrics: warn) silences it here too.
  server.addHook('onResponse', (request, reply, done) => {
    request.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    done();
  });
  await server.register(options.app, { config: options.config });
  return server;
}

/**
 * The one server.ts of every service: builds it, listens, and closes gracefully on SIGTERM/SIGINT
 * (stop accepting, let plugins' onClose hooks flush and disconnect, then exit). A start-up failure
 * (bad config, port taken) is one fatal JSON line on stderr and exit 1.
 */
export async function runServer<C>(options: RunServerOptions<C>): Promise<ServiceInstance | undefined> {
  try {
    const config = options.loadConfig();
    const server = await buildService({ ...options, config });
    closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
      if (err) server.log.error({ err }, 'shutting down after an unexpected error');
      else server.log.info({ signal }, 'shutting down');
      await server.close();
    });
    await server.listen({ host: config.HOST, port: config.PORT });
    return server;
  } catch (error) {
    exitFatally(options.service, error);
  }
}

/** The logger may not exist yet (bad config): one JSON line on stderr, then exit. */
export function exitFatally(service: string, error: unknown): never {
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service, msg: String(error) })}\n`);
  process.exit(1);
}
