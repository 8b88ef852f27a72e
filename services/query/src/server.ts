import { runServer } from '@splitstream/shared';
import { app, SERVER_OPTIONS } from './app';
import { loadQueryConfig } from './config';

const config = loadQueryConfig();
runServer({
  service: 'query',
  config,
  port: config.PORT,
  app: (instance, opts) => app(instance, { ...opts, defaultMetrics: true }),
  serverOptions: SERVER_OPTIONS,
}).catch((error: unknown) => {
  // Logger may not exist yet (bad config): one JSON line on stderr, then exit.
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'query', msg: String(error) })}\n`);
  process.exit(1);
});
