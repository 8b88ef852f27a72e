#!/usr/bin/env bash
# The one test command (npm test, and CI): installs and starts the infrastructure (idempotent),
# builds, runs every package's suite against it, and prints one closing line with the totals.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

bash infra/scripts/infra.sh up
# Suites find the infrastructure through these (defaults match infra.sh's default ports).
export KAFKA_BROKERS="127.0.0.1:${KAFKA_PORT:-9092}"
export MONGO_WRITE_URI="mongodb://127.0.0.1:${STORE_WRITE_PORT:-27017}/?directConnection=true&retryWrites=false"
export MONGO_READ_URI="mongodb://127.0.0.1:${STORE_READ_PORT:-27018}/?directConnection=true&retryWrites=false"
rm -f ./*/test-artifacts/jest-results.json ./*/*/test-artifacts/jest-results.json
npx --no-install turbo run build --output-logs=errors-only

status=0
# The infrastructure suite stops and restarts shared endpoints: it runs alone, first.
npx --no-install turbo run test --filter=@splitstream/infra || status=1
# Whatever that suite stopped is running again before the others start.
bash infra/scripts/infra.sh up >/dev/null
npx --no-install turbo run test --filter='!@splitstream/infra' --concurrency=2 --continue || status=1

node infra/scripts/test-summary.js || status=1
exit "$status"
