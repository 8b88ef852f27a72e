import { runServer } from '@splitstream/shared';
import type { FastifyPluginAsync } from 'fastify';
import { app } from './app';
import { loadWriterConfig, type WriterConfig } from './config';

// In its own process the writer also exports the process-wide metrics (memory, event loop lag).
const withProcessMetrics: FastifyPluginAsync<{ config: WriterConfig }> = async (fastify, { config }) => {
  await fastify.register(app, { config, defaultMetrics: true });
};

const config = loadWriterConfig();
runServer({ service: 'writer', config, port: config.PORT, app: withProcessMetrics }).catch(
  (error: unknown) => {
    // Logger may not exist yet (bad config): one JSON line on stderr, then exit.
    process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'writer', msg: String(error) })}\n`);
    process.exit(1);
  },
);
