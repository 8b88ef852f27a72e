import { runServer } from '@splitstream/shared';
import { app } from './app';
import { loadIngestConfig } from './config';

const config = loadIngestConfig();
runServer({ service: 'ingest', config, port: config.PORT, app }).catch((error: unknown) => {
  // Logger may not exist yet (bad config): one JSON line on stderr, then exit.
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'ingest', msg: String(error) })}\n`);
  process.exit(1);
});
