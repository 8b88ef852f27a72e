import { splitList } from '@splitstream/shared';
import { UsageError } from '../usage-error';

/** The four processes, in the order `npm start` starts them, with the ports it gives them. */
export const SERVICE_PORTS = Object.freeze({
  gateway: { env: 'GATEWAY_PORT', port: 8080 },
  ingest: { env: 'INGEST_PORT', port: 8081 },
  query: { env: 'QUERY_PORT', port: 8082 },
  writer: { env: 'WRITER_PORT', port: 8083 },
});
export type ServiceName = keyof typeof SERVICE_PORTS;
export const SERVICE_NAMES = Object.keys(SERVICE_PORTS) as ServiceName[];

/** The infrastructure's default ports (infra/scripts/endpoints.sh). */
export const INFRA_PORTS = Object.freeze({ kafka: 9092, storeWrite: 27017, storeRead: 27018 });

export interface Targets {
  services: { name: ServiceName; url: string }[];
  kafka: string[];
  storeWrite: string;
  storeRead: string;
}

export type TargetFlags = Partial<
  Record<ServiceName | 'host' | 'kafka' | 'storeWrite' | 'storeRead', string>
>;

const storeUri = (port: string) => `mongodb://127.0.0.1:${port}/?directConnection=true&retryWrites=false`;

/** A service's base URL from a flag (a port or a URL), else its port variable, else its default port. */
export function serviceUrl(
  name: ServiceName,
  flag: string | undefined,
  host: string,
  env: NodeJS.ProcessEnv,
): string {
  if (flag && /^https?:\/\//.test(flag)) return flag.replace(/\/+$/, '');
  const port = flag ?? env[SERVICE_PORTS[name].env] ?? String(SERVICE_PORTS[name].port);
  if (!/^[0-9]{1,5}$/.test(port))
    throw new UsageError(`--${name}: "${port}" is neither a port nor an http(s) URL`);
  return `http://${host}:${port}`;
}

/** Where each part is: flags first, then the variables start.sh and endpoints.sh read, then their defaults. */
export function resolveTargets(flags: TargetFlags, env: NodeJS.ProcessEnv): Targets {
  const host = flags.host ?? '127.0.0.1';
  return {
    services: SERVICE_NAMES.map((name) => ({ name, url: serviceUrl(name, flags[name], host, env) })),
    kafka: splitList(flags.kafka ?? env.KAFKA_BROKERS ?? `127.0.0.1:${env.KAFKA_PORT ?? INFRA_PORTS.kafka}`),
    storeWrite:
      flags.storeWrite ??
      env.MONGO_WRITE_URI ??
      storeUri(env.STORE_WRITE_PORT ?? String(INFRA_PORTS.storeWrite)),
    storeRead:
      flags.storeRead ?? env.MONGO_READ_URI ?? storeUri(env.STORE_READ_PORT ?? String(INFRA_PORTS.storeRead)),
  };
}

/** host:port of a mongodb:// URI, for display (credentials never shown). */
export function uriEndpoint(uri: string): string {
  const match = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]+)/.exec(uri);
  return match?.[1] ?? uri;
}
