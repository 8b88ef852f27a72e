#!/usr/bin/env bash
# The one test command (npm test, and CI): installs and starts the infrastructure (idempotent),
# builds, runs every package's suite against it, and prints one closing line with the totals.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

bash infra/scripts/infra.sh up
# The contract fuzz suite's pinned schemathesis (a venv under .local/; a no-op once installed).
bash infra/scripts/schemathesis.sh >/dev/null
source infra/scripts/endpoints.sh
rm -f ./*/test-artifacts/jest-results.json ./*/*/test-artifacts/jest-results.json infra/test-artifacts/faults-results.json
npx --no-install turbo run build --output-logs=errors-only

status=0
# Every phase is bounded in time: a hung suite fails the run instead of holding CI.
bounded() { local seconds="$1"; shift; timeout --kill-after=30 "$seconds" "$@"; }
# The infrastructure suite stops and restarts shared endpoints: it runs alone, first.
bounded 600 npx --no-install turbo run test --filter=@splitstream/infra || status=1
# Whatever that suite stopped is running again before the others start.
bash infra/scripts/infra.sh up >/dev/null
bounded 1800 npx --no-install turbo run test --filter='!@splitstream/infra' --concurrency=2 --continue || status=1
# The fault suite SIGKILLs the shared broker and PostgreSQL: alone, after every other suite; then up again.
bounded 900 npm run --silent test:faults -w infra || status=1
bash infra/scripts/infra.sh up >/dev/null

node infra/scripts/test-summary.js || status=1
exit "$status"
