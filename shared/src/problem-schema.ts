import { Type } from '@sinclair/typebox';
import { PROBLEM_CONTENT_TYPE } from './problem';

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

/**
 * A route-schema response entry for an error status: problem+json with the given description,
 * and optional response headers (e.g. Retry-After) documented in OpenAPI.
 */
export function problemResponse(description: string, headers?: Record<string, unknown>) {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } },
  };
}
