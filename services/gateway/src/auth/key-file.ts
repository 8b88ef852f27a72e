import { statSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { type ApiKeyStore, loadApiKeys } from './api-keys';

export interface KeyFileReloaderOptions {
  file: string;
  /** API_KEYS: kept beside the file's keys on every reload. */
  inline: string;
  store: ApiKeyStore;
  intervalMs: number;
  log: FastifyBaseLogger;
}

/** What identifies one version of the file: a rewrite in place or a rename over it changes it. */
function versionOf(file: string): string {
  try {
    const stat = statSync(file);
    return `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
  } catch (error) {
    return `unreadable:${(error as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

/**
 * Re-reads API_KEYS_FILE whenever it changes (a stat every `intervalMs`: it also sees a file
 * renamed over the old one, which an fs.watch on the file would miss), so keys the operator CLI
 * creates or revokes apply without a restart. A file that does not parse, or that is gone, keeps
 * the last good keys, with one error line per version of the file.
 */
export class KeyFileReloader {
  private version: string;
  private timer: NodeJS.Timeout | undefined;

  /** `loadedVersion`: the file's version taken before the keys the store holds were read. */
  constructor(
    private readonly options: KeyFileReloaderOptions,
    loadedVersion: string,
  ) {
    this.version = loadedVersion;
  }

  static versionOf = versionOf;

  start(): void {
    this.timer ??= setInterval(() => this.check(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reloads if the file changed since the last look; says what happened. */
  check(): 'unchanged' | 'reloaded' | 'kept' {
    const { file, inline, store, log } = this.options;
    const version = versionOf(file);
    if (version === this.version) return 'unchanged';
    this.version = version;
    try {
      const records = loadApiKeys({ file, inline });
      store.replace(records);
      log.info({ file, keys: records.length }, 'API keys reloaded');
      return 'reloaded';
    } catch (error) {
      log.error(
        { file, reason: (error as Error).message, keys: store.size },
        'API key file not loaded: keeping the last good keys',
      );
      return 'kept';
    }
  }
}
