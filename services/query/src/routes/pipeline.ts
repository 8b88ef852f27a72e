import type { RoutePlugin } from '@splitstream/shared';
import type { QueryConfig } from '../config';
import { computePipeline, PIPELINE_LIMITS, type ReadCounter } from '../domain/pipeline';
import { pipelineSchema } from '../schemas/pipeline';

export const PIPELINE_URL = '/v1/pipeline';

export const pipelineRoutes: RoutePlugin<{ config: QueryConfig; reads: ReadCounter }> = async (
  app,
  options,
) => {
  const { config, reads } = options;

  app.get(PIPELINE_URL, { schema: pipelineSchema(config) }, async (request, reply) => {
    const q = request.query;
    return app.reads.serve(request, reply, q, (store) =>
      computePipeline(
        store,
        {
          tenant: request.principal.tenant,
          until: new Date(),
          windowSeconds: q.window ?? PIPELINE_LIMITS.defaultWindowSeconds,
          stepSeconds: q.step ?? PIPELINE_LIMITS.defaultStepSeconds,
        },
        reads,
      ),
    );
  });
};
