import { runServer } from '@splitstream/shared';
import { app } from './app';
import { loadWriterConfig } from './config';

const config = loadWriterConfig();
runServer({ service: 'writer', config, port: config.PORT, app }).catch((error: unknown) => {
  // Logger may not exist yet (bad config): one JSON line on stderr, then exit.
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'writer', msg: String(error) })}\n`);
  process.exit(1);
});
