import type { Socket } from 'node:net';
import closeWithGrace from 'close-with-grace';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import { loggerOptions } from './logger';
import { PROBLEM_CONTENT_TYPE } from './problem';

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

export interface RunServerOptions<C> {
  service: string;
  config: C & { HOST: string; LOG_LEVEL: string };
  port: number;
  /** The service's app plugin (app.ts): registered with the config as its options. */
  app: FastifyPluginAsync<{ config: C }>;
  /** Extra Fastify server options (body limit, trust proxy…). */
  serverOptions?: Record<string, unknown>;
}

const SHUTDOWN_GRACE_MS = 10_000;

/**
 * Builds the Fastify instance, listens and closes gracefully on SIGTERM/SIGINT: stop accepting,
 * let plugins' onClose hooks flush and disconnect, then exit. The one server.ts of every service.
 */
export async function runServer<C>(options: RunServerOptions<C>): Promise<FastifyInstance> {
  const server = Fastify({
    logger: loggerOptions(options.service, options.config.LOG_LEVEL),
    requestIdHeader: 'x-request-id',
    requestIdLogLabel: 'requestId',
    genReqId: () => crypto.randomUUID(),
    disableRequestLogging: false,
    ...HTTP_SERVER_OPTIONS,
    ...options.serverOptions,
  });
  await server.register(options.app, { config: options.config });

  closeWithGrace({ delay: SHUTDOWN_GRACE_MS }, async ({ signal, err }) => {
    if (err) server.log.error({ err }, 'shutting down after an unexpected error');
    else server.log.info({ signal }, 'shutting down');
    await server.close();
  });

  await server.listen({ host: options.config.HOST, port: options.port });
  return server;
}
