import { runServer } from '@splitstream/shared';
import { app, GATEWAY_SERVER_OPTIONS } from './app';
import { loadGatewayConfig } from './config';

const config = loadGatewayConfig();
runServer({
  service: 'gateway',
  config,
  port: config.PORT,
  app,
  serverOptions: { ...GATEWAY_SERVER_OPTIONS },
}).catch((error: unknown) => {
  // Logger may not exist yet (bad config): one JSON line on stderr, then exit.
  process.stderr.write(`${JSON.stringify({ level: 'fatal', service: 'gateway', msg: String(error) })}\n`);
  process.exit(1);
});
