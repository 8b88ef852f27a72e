import { CommonConfig, loadConfig } from '@splitstream/shared';
import { type Static, Type } from '@sinclair/typebox';

export const DEFAULT_PORT = 8080;

export const GATEWAY_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT }),
  }),
]);
export type GatewayConfig = Static<typeof GATEWAY_CONFIG>;

export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig => loadConfig(GATEWAY_CONFIG, env);
