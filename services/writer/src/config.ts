import { CommonConfig, loadConfig } from '@splitstream/shared';
import { type Static, Type } from '@sinclair/typebox';

export const DEFAULT_PORT = 8083;

export const WRITER_CONFIG = Type.Composite([
  CommonConfig,
  Type.Object({
    PORT: Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT }),
  }),
]);
export type WriterConfig = Static<typeof WRITER_CONFIG>;

export const loadWriterConfig = (env: NodeJS.ProcessEnv = process.env): WriterConfig => loadConfig(WRITER_CONFIG, env);
