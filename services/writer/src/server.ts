import { runServer } from '@splitstream/shared';
import type { FastifyPluginAsync } from 'fastify';
import { app } from './app';
import { loadWriterConfig, type WriterConfig } from './config';

// In its own process the writer also exports the process-wide metrics (memory, event loop lag).
const withProcessMetrics: FastifyPluginAsync<{ config: WriterConfig }> = async (fastify, { config }) => {
  await fastify.register(app, { config, defaultMetrics: true });
};

void runServer({ service: 'writer', loadConfig: loadWriterConfig, app: withProcessMetrics });
