import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { waitFor } from './infra';
import { freePort, REPO_ROOT } from './processes';

/** Whether something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

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
  // Only once it listens: a client connecting before would be refused by the port, not the backend.
  await waitFor(() => child.exitCode === null && accepts(port), {
    timeoutMs: 15_000,
    what: 'the backend-less store endpoint to listen',
  });
  return {
    uri: `mongodb://127.0.0.1:${port}/?directConnection=true&retryWrites=false`,
    async stop() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
