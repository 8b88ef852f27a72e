// Shared benchmark plumbing (fastify/benchmarks style): every server runs in its own process,
// each measurement is a warm-up run then a measured run, results are plain JSON.
const { spawn } = require('node:child_process');
const { createServer } = require('node:net');
const { join } = require('node:path');
const autocannon = require('autocannon');

const ROOT = join(__dirname, '..');

/** A free TCP port on loopback (listen on 0, read it, close). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Starts services/<name>/dist/server.js with `env` on a free port; resolves once /readyz answers 200. */
async function startService(name, env = {}) {
  const port = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'services', name, 'dist', 'server.js')], {
    env: { ...process.env, LOG_LEVEL: 'warn', ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`);
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${name} not ready after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', resolve);
        child.kill('SIGTERM');
      }),
  };
}

/** Runs autocannon twice (warm-up, then measured) and returns the measured summary. */
async function measure(options, { warmupSeconds = 2 } = {}) {
  await autocannon({ ...options, duration: warmupSeconds });
  const result = await autocannon(options);
  return {
    title: options.title,
    connections: options.connections,
    durationSeconds: options.duration,
    requestsPerSecond: result.requests.average,
    latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

/** Per-second rate and latency percentiles of a closed loop of `concurrency` workers calling `fn` for `seconds`. */
async function measureLoop(title, fn, { concurrency = 100, seconds = 10 } = {}) {
  const latencies = [];
  const deadline = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const t0 = process.hrtime.bigint();
        await fn();
        latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return {
    title,
    connections: concurrency,
    durationSeconds: (Date.now() - started) / 1000,
    requestsPerSecond: latencies.length / ((Date.now() - started) / 1000),
    latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: latencies.at(-1) },
    requests: latencies.length,
  };
}

module.exports = { ROOT, freePort, startService, measure, measureLoop };
