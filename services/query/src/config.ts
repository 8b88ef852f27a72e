import { CommonConfig, loadConfig } from '@splitstream/shared';
import { type Static, Type } from '@sinclair/typebox';

export const DEFAULT_PORT = 8082;

export const QUERY_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT }),
  }),
]);
export type QueryConfig = Static<typeof QUERY_CONFIG>;

export const loadQueryConfig = (env: NodeJS.ProcessEnv = process.env): QueryConfig => loadConfig(QUERY_CONFIG, env);
