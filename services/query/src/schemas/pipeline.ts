import { Type } from '@sinclair/typebox';
import type { QueryConfig } from '../config';
import { PIPELINE_LIMITS } from '../domain/pipeline';
import { readRoute, TAGS } from './common';

const Latency = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);

export const pipelineSchema = (config: QueryConfig) =>
  readRoute(config, {
    tag: TAGS.pipeline,
    summary: "Your tenant's pipeline figures over the last minutes",
    description:
      "Computed from your tenant's events stored in the window ending now: events accepted per second " +
      '(by `receivedAt`, the time ingest accepted them; only those already stored count), stored per second ' +
      '(by `storedAt`), and the accepted → stored latency (p50, p99, max), over the window and per bucket of ' +
      '`step` seconds; plus reads per second of your tenant answered by the query instance that answers (this ' +
      `route itself not counted). At most ${PIPELINE_LIMITS.maxBuckets} buckets (a smaller step is widened) and ` +
      `${PIPELINE_LIMITS.maxEvents} stored events per answer (beyond that \`sampled\` is true). How fresh the ` +
      'figures are is in the Splitstream-Applied-Time and Splitstream-Staleness-Ms headers, as on every read.',
    query: {
      window: Type.Optional(
        Type.Integer({
          minimum: PIPELINE_LIMITS.minWindowSeconds,
          maximum: PIPELINE_LIMITS.maxWindowSeconds,
          default: PIPELINE_LIMITS.defaultWindowSeconds,
          description: 'Window length in seconds, ending now',
          examples: [300],
        }),
      ),
      step: Type.Optional(
        Type.Integer({
          minimum: PIPELINE_LIMITS.minStepSeconds,
          maximum: PIPELINE_LIMITS.maxStepSeconds,
          default: PIPELINE_LIMITS.defaultStepSeconds,
          description: 'Bucket width in seconds',
          examples: [10],
        }),
      ),
    },
    answer: {
      description: 'Figures over the window and per bucket',
      schema: Type.Object(
        {
          since: Type.String({ format: 'date-time' }),
          until: Type.String({ format: 'date-time' }),
          windowSeconds: Type.Integer(),
          stepSeconds: Type.Integer({ description: 'Bucket width used (the one asked for, or wider)' }),
          acceptedPerSecond: Type.Number({ minimum: 0 }),
          storedPerSecond: Type.Number({ minimum: 0 }),
          readsPerSecond: Type.Number({ minimum: 0 }),
          latencyMs: Type.Object(
            { p50: Latency, p99: Latency, max: Latency },
            {
              additionalProperties: false,
              description: 'receivedAt → storedAt of the events stored in the window; null when none was',
            },
          ),
          sampled: Type.Boolean({
            description: `true when the window held more than ${PIPELINE_LIMITS.maxEvents} stored events`,
          }),
          buckets: Type.Array(
            Type.Object(
              {
                start: Type.String({ format: 'date-time' }),
                accepted: Type.Integer({ minimum: 0 }),
                stored: Type.Integer({ minimum: 0 }),
                reads: Type.Integer({ minimum: 0 }),
                latencyP50Ms: Latency,
                latencyP99Ms: Latency,
              },
              { additionalProperties: false },
            ),
            { description: 'Oldest first; the last one ends at `until`' },
          ),
        },
        {
          additionalProperties: false,
          examples: [
            {
              since: '2026-11-26T10:00:00.000Z',
              until: '2026-11-26T10:00:10.000Z',
              windowSeconds: 10,
              stepSeconds: 5,
              acceptedPerSecond: 1.2,
              storedPerSecond: 1.2,
              readsPerSecond: 0.5,
              latencyMs: { p50: 35, p99: 120, max: 140 },
              sampled: false,
              buckets: [
                {
                  start: '2026-11-26T10:00:00.000Z',
                  accepted: 7,
                  stored: 7,
                  reads: 3,
                  latencyP50Ms: 30,
                  latencyP99Ms: 120,
                },
                {
                  start: '2026-11-26T10:00:05.000Z',
                  accepted: 5,
                  stored: 5,
                  reads: 2,
                  latencyP50Ms: 40,
                  latencyP99Ms: 90,
                },
              ],
            },
          ],
        },
      ),
    },
  });
