import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { type FieldError, SplitstreamError, STATUS_TITLES } from './errors';

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

/** Field errors listed in one 400: enough to fix a request, bounded so a 1000-event mistake stays readable. */
export const MAX_REPORTED_ERRORS = 100;

type AjvError = NonNullable<FastifyError['validation']>[number];

/**
 * Where an Ajv error points: a JSON pointer in a body (`/3/source`), `querystring.limit` elsewhere.
 * A missing or unexpected property is named itself, not its parent object.
 */
function fieldOf(context: string, error: AjvError): string {
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const name = params.missingProperty ?? params.additionalProperty;
  if (context === 'body') {
    const pointer =
      error.instancePath + (name === undefined ? '' : `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`);
    return pointer || '/';
  }
  return `${context}${error.instancePath.replace(/\//g, '.')}${name === undefined ? '' : `.${name}`}`;
}

/** One message per field: a union of constants reads "must be one of a, b", not its branches' errors. */
function messageOf(errors: AjvError[]): string {
  const allowed = errors.flatMap((e) => (e.keyword === 'const' ? [String(e.params.allowedValue)] : []));
  if (allowed.length > 0 && errors.every((e) => e.keyword === 'const' || e.keyword === 'anyOf')) {
    return `must be one of ${allowed.join(', ')}`;
  }
  const [first] = errors as [AjvError];
  if (first.keyword === 'additionalProperties') return 'is not allowed';
  // Ajv's own message quotes the regular expression, which can be kilobytes long.
  if (first.keyword === 'pattern') return 'is not of the accepted form (see the schema)';
  if (first.keyword === 'type' && (first.params.type === 'object' || first.params.type === 'array')) {
    return `must be a JSON ${first.params.type}`;
  }
  return first.message ?? 'is invalid';
}

/** Fastify/Ajv validation errors → one FieldError per offending field, named by where it lives. */
export function fieldErrorsOf(error: FastifyError): FieldError[] {
  const context = error.validationContext ?? 'body';
  const byField = new Map<string, AjvError[]>();
  for (const v of error.validation ?? []) {
    const field = fieldOf(context, v);
    byField.set(field, [...(byField.get(field) ?? []), v]);
  }
  return [...byField]
    .slice(0, MAX_REPORTED_ERRORS)
    .map(([field, errors]) => ({ field, message: messageOf(errors) }));
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
      detail: errors
        .slice(0, 3)
        .map((e) => `${e.field} ${e.message}`)
        .join('; '),
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
  return STATUS_TITLES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
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
