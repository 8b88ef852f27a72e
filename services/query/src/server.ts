import { runServer } from '@splitstream/shared';
import { app } from './app';
import { loadQueryConfig } from './config';

const config = loadQueryConfig();
runServer({ service: 'query', config, port: config.PORT, app }).catch((error: unknown) => {
  // Logger may not exist yet (bad config): one JSON line on stderr, then exit.
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'query', msg: String(error) })}\n`);
  process.exit(1);
});
