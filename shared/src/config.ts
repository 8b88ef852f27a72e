import { type Static, type TObject, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from './errors';

/**
 * Reads a service's settings from the environment once, at boot, validated against a TypeBox
 * schema whose property names are the environment variable names. Defaults live in the schema.
 * A bad value throws ConfigError naming every variable at fault, so the service stops at once.
 */
export function loadConfig<T extends TObject>(schema: T, env: NodeJS.ProcessEnv = process.env): Static<T> {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.properties)) {
    const value = env[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const withDefaults = Value.Default(schema, raw);
  const converted = Value.Convert(schema, withDefaults);
  const errors = [...Value.Errors(schema, converted)];
  if (errors.length > 0) {
    const details = errors.map((e) => `${e.path.slice(1) || '(root)'}: ${e.message}`);
    throw new ConfigError(`invalid configuration:\n  ${[...new Set(details)].join('\n  ')}`);
  }
  return converted as Static<T>;
}

/** Settings every service shares. Compose into a service schema with `Type.Composite`. */
export const CommonConfig = Type.Object({
  HOST: Type.String({ default: '127.0.0.1', description: 'Interface to listen on' }),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  INTERNAL_AUTH_SECRET: Type.String({
    minLength: 16,
    default: 'splitstream-dev-internal-secret',
    description: 'Shared secret the gateway signs the tenant with; services verify it',
  }),
});

/** Comma-separated list of host:port pairs. */
export const HostList = Type.String({ pattern: '^[^,\\s]+(,[^,\\s]+)*$' });

export function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A MongoDB connection string setting. */
export const MongoUri = (defaultValue: string, description: string) =>
  Type.String({ pattern: '^mongodb(\\+srv)?://', default: defaultValue, description });

/** The store primary's connection string; the default is the local dev primary. */
export const PrimaryUri = (description: string) =>
  MongoUri('mongodb://127.0.0.1:27017/?directConnection=true&retryWrites=false', description);

/** A whole-number setting within bounds, with its default and what it is for. */
export const IntegerSetting = (defaultValue: number, minimum: number, maximum: number, description: string) =>
  Type.Integer({ minimum, maximum, default: defaultValue, description });
