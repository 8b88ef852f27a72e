import { Type } from '@sinclair/typebox';
import { PROBLEM_CONTENT_TYPE, type Problem } from './problem';

/**
 * RFC 9457 problem details as every service answers them (problem.ts), for route schemas and the
 * OpenAPI document. Open to extension members (e.g. `sources` on a 409), so serialization keeps them.
 */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ examples: ['about:blank'] }),
    title: Type.String(),
    status: Type.Integer({ minimum: 400, maximum: 599 }),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), {
        description: 'One entry per offending field (validation errors)',
      }),
    ),
  },
  {
    $id: 'Problem',
    additionalProperties: true,
    description: 'RFC 9457 problem details (application/problem+json)',
    examples: [
      {
        type: 'about:blank',
        title: 'Bad Request',
        status: 400,
        detail: 'querystring.limit must be <= 1000',
        instance: '/v1/events?limit=5000',
        errors: [{ field: 'querystring.limit', message: 'must be <= 1000' }],
      },
    ],
  },
);

/** The Retry-After response header of a 503 (and a 429), as route schemas document it. */
export const RETRY_AFTER_HEADER = Object.freeze({
  'Retry-After': { type: 'integer', minimum: 1, description: 'Seconds to wait before retrying' },
});

export interface ProblemResponseOptions {
  /** Response headers documented in OpenAPI (e.g. RETRY_AFTER_HEADER). */
  headers?: Record<string, unknown>;
  /** This status's own example; the schema is then inlined so each status shows its case. */
  example?: Partial<Problem>;
}

const { $id: _problemId, examples: _problemExamples, ...problemBody } = ProblemSchema;

/** A route-schema response entry for an error status: problem+json with the given description. */
export function problemResponse(
  description: string,
  options: ProblemResponseOptions = {},
): Record<string, unknown> {
  const schema = options.example
    ? { ...problemBody, examples: [{ type: 'about:blank', ...options.example }] }
    : ProblemSchema;
  return {
    description,
    ...(options.headers ? { headers: options.headers } : {}),
    content: { [PROBLEM_CONTENT_TYPE]: { schema } },
  };
}
