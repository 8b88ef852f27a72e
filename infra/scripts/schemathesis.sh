#!/usr/bin/env bash
# Installs the pinned schemathesis (infra/schemathesis/requirements.txt) into a Python venv under
# $SPLITSTREAM_LOCAL (default <repo>/.local) and prints the path of its `schemathesis` executable.
# Idempotent: reinstalls only when the requirements or constraints changed. Used by the gateway's contract
# fuzz suite; runs on a fresh Debian/Ubuntu machine (installs python3-venv with apt when missing).
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" schemathesis
VENV="$LOCAL/schemathesis"
REQUIREMENTS="$ROOT/infra/schemathesis/requirements.txt"
CONSTRAINTS="$ROOT/infra/schemathesis/constraints.txt"

stamp=$(cat "$REQUIREMENTS" "$CONSTRAINTS" | sha256sum | cut -c1-16)
if [[ -x "$VENV/bin/schemathesis" && "$(cat "$VENV/.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "$VENV/bin/schemathesis"
  exit 0
fi

mkdir -p "$LOCAL/logs"
LOG="$LOCAL/logs/schemathesis-install.log"
python=""
# Run each candidate: a pyenv shim exists on PATH even for a version that is not installed.
for candidate in python3 python3.13 python3.12 python3.11 python3.10 python3.9; do
  if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
[[ -n "$python" ]] || die "Python 3.9+ is required (apt-get install python3)"

# Debian's python3 ships venv/ensurepip separately (python3-venv).
if ! "$python" -c 'import venv, ensurepip' 2>/dev/null; then
  log "installing python3-venv (apt)"
  apt_install python3-venv
fi

log "installing $(grep -v '^#' "$REQUIREMENTS") into $VENV"
rm -rf "$VENV"
{
  "$python" -m venv "$VENV" && "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS" -c "$CONSTRAINTS"
} >"$LOG" 2>&1 || die "install failed, see $LOG"
"$VENV/bin/schemathesis" --version >>"$LOG" 2>&1 || die "schemathesis does not start, see $LOG"
echo "$stamp" >"$VENV/.stamp"
echo "$VENV/bin/schemathesis"
