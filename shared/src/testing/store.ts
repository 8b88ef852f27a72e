import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort, REPO_ROOT } from './processes';

/** The local store's server binary, as infra.sh builds it. */
export const FERRETDB_BIN = join(
  process.env.SPLITSTREAM_LOCAL ?? join(REPO_ROOT, '.local'),
  'bin',
  'splitstream-ferretdb',
);

export interface StoreWithoutBackend {
  uri: string;
  stop(): Promise<void>;
}

/**
 * A real store endpoint whose backend is gone: FerretDB pointed at a PostgreSQL port nobody
 * listens on. It accepts connections and answers `hello`, but every query fails with the backend's
 * connection error, as an endpoint does when its PostgreSQL dies (without killing the shared one).
 */
export async function startStoreWithoutBackend(): Promise<StoreWithoutBackend> {
  const [port, deadPgPort] = [await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    FERRETDB_BIN,
    [
      `--listen-addr=127.0.0.1:${port}`,
      `--postgresql-url=postgres://postgres@127.0.0.1:${deadPgPort}/ferretdb`,
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true&retryWrites=false`,
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
