import AjvCompiler from '@fastify/ajv-compiler';

/*
 * The one validator of every route, from the route's own schema (the schema the OpenAPI document
 * shows is the one that checks). Fastify's defaults would strip properties a schema does not
 * allow (a misspelt filter would silently widen a query), stop at the first error, and coerce body
 * values ("1" for a number). Here: every error, nothing removed, and type coercion only where every
 * value arrives as text (query string, path parameters, headers).
 */
const STRICT = {
  allErrors: true,
  removeAdditional: false,
  useDefaults: true,
} as const;
const TEXT_PARTS = new Set<string>(['querystring', 'params', 'headers']);

const fromPool = AjvCompiler();
type ExternalSchemas = Parameters<typeof fromPool>[0];
type RouteDefinition = Parameters<ReturnType<typeof fromPool>>[0];

/** Fastify `schemaController.compilersFactory.buildValidator`: two Ajv setups, chosen by where the value lives. */
export function buildSchemaValidator(externalSchemas: ExternalSchemas) {
  const forText = fromPool(externalSchemas, { customOptions: { ...STRICT, coerceTypes: 'array' } });
  const forBody = fromPool(externalSchemas, { customOptions: { ...STRICT, coerceTypes: false } });
  return (route: RouteDefinition) => (TEXT_PARTS.has(route.httpPart ?? '') ? forText(route) : forBody(route));
}
