import { CommonConfig, loadConfig } from '@splitstream/shared';
import { type Static, Type } from '@sinclair/typebox';

export const DEFAULT_PORT = 8081;

export const INGEST_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT }),
  }),
]);
export type IngestConfig = Static<typeof INGEST_CONFIG>;

export const loadIngestConfig = (env: NodeJS.ProcessEnv = process.env): IngestConfig => loadConfig(INGEST_CONFIG, env);
