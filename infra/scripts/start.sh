#!/usr/bin/env bash
# Starts the whole system on this machine: infrastructure, then writer, ingest, query and gateway,
# waits until each is ready, prints where to go. Ctrl-C stops the services (infra keeps running;
# `npm run infra:down` stops it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
LOGS="${SPLITSTREAM_LOCAL:-$ROOT/.local}/logs"

bash infra/scripts/infra.sh up >/dev/null
source infra/scripts/endpoints.sh
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

start_service() { # start_service <name> <port> [VAR=value...]
  local name="$1" port="$2"; shift 2
  env PORT="$port" "$@" node "services/$name/dist/server.js" >>"$LOGS/$name.log" 2>&1 &
  pids+=($!)
  local deadline=$((SECONDS + 60))
  until curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "$name exited, see $LOGS/$name.log" >&2; exit 1; }
    ((SECONDS < deadline)) || { echo "$name not ready after 60 s, see $LOGS/$name.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "  $name ready on http://127.0.0.1:$port"
}

echo "starting services (logs in $LOGS)"
start_service writer "${WRITER_PORT:-8083}"
start_service ingest "${INGEST_PORT:-8081}"
start_service query "${QUERY_PORT:-8082}"
# Dev API keys: generated on the first start, kept in .local (hashes for the gateway, plaintext to print).
node infra/scripts/dev-keys.js --quiet
start_service gateway "${GATEWAY_PORT:-8080}" \
  API_KEYS_FILE="${API_KEYS_FILE:-${SPLITSTREAM_LOCAL:-$ROOT/.local}/dev-api-keys.json}" \
  INGEST_UPSTREAMS="http://127.0.0.1:${INGEST_PORT:-8081}" \
  QUERY_UPSTREAMS="http://127.0.0.1:${QUERY_PORT:-8082}"

cat <<EOT

Splitstream is up.
  Gateway: http://127.0.0.1:${GATEWAY_PORT:-8080}
  Docs:    http://127.0.0.1:${GATEWAY_PORT:-8080}/docs

Dev API keys (also in .local/dev-api-keys.secret.json; send as "Authorization: Bearer <key>"):
$(node infra/scripts/dev-keys.js)

Press Ctrl-C to stop the services.
EOT
wait
