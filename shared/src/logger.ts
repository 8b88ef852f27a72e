import type { LoggerOptions } from 'pino';

/** Headers and fields that must never reach a log line. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers["x-splitstream-signature"]',
  'req.headers.cookie',
  '*.password',
  '*.secret',
];

/** Pino options for a service: JSON, one line per event, service name on every line, secrets redacted. */
export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
