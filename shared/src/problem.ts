import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type FieldError, SplitstreamError } from './errors';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  errors?: FieldError[];
  [extension: string]: unknown;
}

/** Fastify/Ajv validation errors → one FieldError per offending field, named by where it lives. */
function fieldErrorsOf(error: FastifyError): FieldError[] {
  const context = error.validationContext ?? 'body';
  return (error.validation ?? []).map((v) => {
    const missing = (v.params as { missingProperty?: string }).missingProperty;
    const extra = (v.params as { additionalProperty?: string }).additionalProperty;
    const path = v.instancePath + (missing ? `/${missing}` : extra ? `/${extra}` : '');
    const message = extra ? 'is not allowed' : (v.message ?? 'is invalid');
    return { field: `${context}${path.replace(/\//g, '.')}`, message };
  });
}

export function problemOf(error: unknown, request: FastifyRequest): Problem {
  const instance = request.url;
  if (error instanceof SplitstreamError) {
    const exposeDetail = error.status < 500 || error.status === 503;
    return {
      type: 'about:blank',
      title: error.title,
      status: error.status,
      ...(exposeDetail ? { detail: error.message } : {}),
      instance,
      ...(error.errors ? { errors: error.errors } : {}),
      ...(error.extensions ?? {}),
    };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const errors = fieldErrorsOf(fastifyError);
    return {
      type: 'about:blank',
      title: 'Bad Request',
      status: 400,
      detail: errors.map((e) => `${e.field} ${e.message}`).join('; '),
      instance,
      errors,
    };
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { type: 'about:blank', title: titleFor(status), status, detail: fastifyError.message, instance };
  }
  // 5xx: never leak internals; the log line carries the details.
  return { type: 'about:blank', title: titleFor(status), status, instance };
}

function titleFor(status: number): string {
  const titles: Record<number, string> = {
    400: 'Bad Request',
    401: 'Unauthorized',
    403: 'Forbidden',
    404: 'Not Found',
    405: 'Method Not Allowed',
    406: 'Not Acceptable',
    409: 'Conflict',
    413: 'Payload Too Large',
    415: 'Unsupported Media Type',
    429: 'Too Many Requests',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return titles[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
}

export function sendProblem(reply: FastifyReply, problem: Problem, retryAfterSeconds?: number): FastifyReply {
  if (retryAfterSeconds !== undefined)
    reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfterSeconds))));
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** One error handler for the whole app: logs with request context, answers problem+json. */
export const problemPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((error, request, reply) => {
      const problem = problemOf(error, request);
      if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
      else request.log.info({ status: problem.status, detail: problem.detail }, 'request rejected');
      const retryAfter = error instanceof SplitstreamError ? error.retryAfterSeconds : undefined;
      return sendProblem(reply, problem, retryAfter);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, {
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: `no route for ${request.method} ${request.url.split('?')[0]}`,
        instance: request.url,
      }),
    );
  },
  { name: 'splitstream-problem' },
);
