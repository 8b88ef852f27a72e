import { type ChildProcess, spawn } from 'node:child_process';
import { type AddressInfo, createServer } from 'node:net';
import { join } from 'node:path';

/** Repository root, from shared/dist/testing. */
export const REPO_ROOT = join(__dirname, '..', '..', '..');

export const SERVICE_SCRIPT = (service: string) => join(REPO_ROOT, 'services', service, 'dist', 'server.js');

/** A free loopback port: listen on 0, read it, close. For child processes that must be told their port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface ChildService {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** The last 20 kB of the process's stdout and stderr, for failure messages. */
  output: () => string;
  /** Resolves once the process has exited. */
  exited: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Spawns a node script with env on a free port (or the one given); resolves when GET /readyz answers 200. */
export async function spawnService(
  name: string,
  script: string,
  env: Record<string, string>,
  { port, readyTimeoutMs = 30_000 }: { port?: number; readyTimeoutMs?: number } = {},
): Promise<ChildService> {
  const chosen = port ?? (await freePort());
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(chosen) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${chosen}`;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${output}`);
    try {
      const response = await fetch(`${url}/readyz`);
      if (response.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} not ready after ${readyTimeoutMs} ms: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    name,
    url,
    port: chosen,
    child,
    output: () => output,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
