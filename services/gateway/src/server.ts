import { runServer } from '@splitstream/shared';
import { app, GATEWAY_SERVER_OPTIONS } from './app';
import { loadGatewayConfig } from './config';

void runServer({
  service: 'gateway',
  loadConfig: loadGatewayConfig,
  app,
  serverOptions: { ...GATEWAY_SERVER_OPTIONS },
});
