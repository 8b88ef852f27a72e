// The HTTP ceiling of ingest: a bare Fastify server validating the same bodies against the same
// CloudEvent schema with the same validator settings (Ajv) and answering 202 without Kafka, auth or metrics.
//
//   PORT=9999 node loadtest/ceilings/bare-ingest.js
const Fastify = require('fastify');
const { buildSchemaValidator, CloudEventSchema, EVENT_LIMITS } = require('@splitstream/shared');

// The services' validator settings (every error, nothing stripped, no body coercion).
const app = Fastify({
  logger: false,
  bodyLimit: EVENT_LIMITS.maxBatchBytes,
  schemaController: { compilersFactory: { buildValidator: buildSchemaValidator } },
});
app.get('/readyz', async () => ({ status: 'ready' }));
app.post('/v1/events', { schema: { body: CloudEventSchema } }, async (request, reply) =>
  reply.code(202).send({ id: request.body.id }),
);
app.post(
  '/v1/events/batch',
  {
    schema: {
      body: { type: 'array', items: CloudEventSchema, minItems: 1, maxItems: EVENT_LIMITS.maxBatchEvents },
    },
  },
  async (request, reply) => reply.code(202).send({ accepted: request.body.length }),
);
app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' }).catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
