import type { FastifyInstance } from 'fastify';

/** Which of these series (a name, or a name with labels and value) the app's /metrics does not show. */
export async function missingMetrics(app: FastifyInstance, series: readonly string[]): Promise<string[]> {
  const text = (await app.inject('/metrics')).body;
  return series.filter((line) => !text.includes(line));
}
