#!/usr/bin/env bash
# Starts the whole system on this machine: infrastructure, then writer, ingest, query and gateway,
# waits until each is ready, prints where to go. Ctrl-C stops the services (infra keeps running;
# `npm run infra:down` stops it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
LOGS="${SPLITSTREAM_LOCAL:-$ROOT/.local}/logs"

bash infra/scripts/infra.sh up >/dev/null
npx --no-install turbo run build --output-logs=errors-only >/dev/null

export INTERNAL_AUTH_SECRET="${INTERNAL_AUTH_SECRET:-splitstream-dev-internal-secret}"
pids=()
stop_all() {
  trap - INT TERM EXIT
  echo "stopping services..."
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_all INT TERM EXIT

start_service() { # start_service <name> <port>
  PORT="$2" node "services/$1/dist/server.js" >>"$LOGS/$1.log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + 60))
  until curl -fsS "http://127.0.0.1:$2/readyz" >/dev/null 2>&1; do
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "$1 exited, see $LOGS/$1.log" >&2; exit 1; }
    ((SECONDS < deadline)) || { echo "$1 not ready after 60 s, see $LOGS/$1.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "  $1 ready on http://127.0.0.1:$2"
}

echo "starting services (logs in $LOGS)"
start_service writer "${WRITER_PORT:-8083}"
start_service ingest "${INGEST_PORT:-8081}"
start_service query "${QUERY_PORT:-8082}"
start_service gateway "${GATEWAY_PORT:-8080}"

cat <<EOT

Splitstream is up.
  Gateway: http://127.0.0.1:${GATEWAY_PORT:-8080}
  Docs:    http://127.0.0.1:${GATEWAY_PORT:-8080}/docs
Press Ctrl-C to stop the services.
EOT
wait
