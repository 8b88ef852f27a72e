import { runServer } from '@splitstream/shared';
import { app, SERVER_OPTIONS } from './app';
import { loadQueryConfig } from './config';

void runServer({
  service: 'query',
  loadConfig: loadQueryConfig,
  app: (instance, opts) => app(instance, { ...opts, defaultMetrics: true }),
  serverOptions: SERVER_OPTIONS,
});
