#!/usr/bin/env bash
# Local infrastructure without Docker: Apache Kafka (KRaft, jars from Maven Central),
# PostgreSQL primary + hot standby (Debian packages), and one FerretDB v1 endpoint on each
# (writes on the primary, reads on the standby).
#
#   infra.sh up       install what is missing, start what is not running, bootstrap; idempotent
#   infra.sh down     stop everything (data is kept)
#   infra.sh status   one line per component
#   infra.sh reset    down, then delete all local data
#   infra.sh stop-component NAME / start-component NAME   (used by failure tests)
#   infra.sh kill-component NAME   SIGKILL, as a crash would (used by the fault suite; `up` restarts it)
#
# Everything lives under $SPLITSTREAM_LOCAL (default: <repo>/.local), logs in .local/logs.
set -euo pipefail

# shellcheck source=lib/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh" infra
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_HEAP="${KAFKA_HEAP:-512m}"
PG_PRIMARY_PORT="${PG_PRIMARY_PORT:-54320}"
PG_REPLICA_PORT="${PG_REPLICA_PORT:-54321}"
STORE_WRITE_PORT="${STORE_WRITE_PORT:-27017}"
STORE_READ_PORT="${STORE_READ_PORT:-27018}"
PG_DATABASE=ferretdb

LOGS="$LOCAL/logs"
RUN="$LOCAL/run"
BIN="$LOCAL/bin"
KAFKA_LIBS="$LOCAL/kafka/libs"
KAFKA_DATA="$LOCAL/kafka/data"
PG_PRIMARY_DIR="$LOCAL/pg/primary"
PG_REPLICA_DIR="$LOCAL/pg/replica"
PG_SOCKETS="$LOCAL/pg/sockets"
FERRETDB_BIN="$BIN/splitstream-ferretdb"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # wait_for <seconds> <description> <command...>
  local deadline=$((SECONDS + $1)) what="$2"; shift 2
  until "$@"; do
    ((SECONDS < deadline)) || die "timed out waiting for $what (see $LOGS)"
    sleep 0.2
  done
}

pid_alive() { [[ -f "$RUN/$1.pid" ]] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

# Content hash of the inputs that produced an artifact, so `up` rebuilds only when they change.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }

LIB="$ROOT/infra/scripts/lib"
# shellcheck source=lib/install.sh
source "$LIB/install.sh"
# shellcheck source=lib/postgres.sh
source "$LIB/postgres.sh"
# shellcheck source=lib/daemons.sh
source "$LIB/daemons.sh"

# ---------------------------------------------------------------- bootstrap
bootstrap() { # topics, database, collections, indexes, dev API keys; prints "changed" when the store layout changed
  local env=(KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" MONGO_WRITE_URI="$(write_uri)")
  env "${env[@]}" node "$ROOT/infra/scripts/bootstrap.js" 2>>"$LOGS/bootstrap.log"
}

write_uri() { echo "mongodb://127.0.0.1:$STORE_WRITE_PORT/?directConnection=true&retryWrites=false"; }
read_uri() { echo "mongodb://127.0.0.1:$STORE_READ_PORT/?directConnection=true&retryWrites=false&readPreference=secondaryPreferred"; }

cmd_up() {
  local started=$SECONDS
  mkdir -p "$LOGS" "$RUN" "$BIN" "$KAFKA_DATA"
  ensure_tools
  ensure_node_modules
  ensure_shared_built
  ensure_kafka_jars
  ensure_ferretdb
  kafka_start
  ensure_pg_primary
  ferretdb_start ferretdb-primary "$STORE_WRITE_PORT" "$PG_PRIMARY_PORT"
  ensure_pg_replica
  wait_for 120 "Kafka on port $KAFKA_PORT" port_open "$KAFKA_PORT"
  wait_for 30 "FerretDB primary on port $STORE_WRITE_PORT" port_open "$STORE_WRITE_PORT"
  local changed
  changed=$(bootstrap) || die "bootstrap failed, see $LOGS/bootstrap.log"
  ensure_pg_lookup_indexes
  # The standby's FerretDB reads collection metadata once at start: (re)start it only after the
  # bootstrap's collections and indexes have been replayed on the standby.
  if [[ "$changed" == changed ]] && pid_alive ferretdb-replica; then
    log "store layout changed: restarting the replica endpoint"
    daemon_stop ferretdb-replica
  fi
  if ! pid_alive ferretdb-replica; then
    wait_replica_caught_up
    ferretdb_start ferretdb-replica "$STORE_READ_PORT" "$PG_REPLICA_PORT"
  fi
  wait_for 30 "FerretDB replica on port $STORE_READ_PORT" port_open "$STORE_READ_PORT"
  log "ready in $((SECONDS - started)) s"
  cmd_status
}

cmd_down() {
  daemon_stop ferretdb-replica
  daemon_stop ferretdb-primary
  daemon_stop kafka
  if find_pg_bin; then
    pg_stop "$PG_REPLICA_DIR"
    pg_stop "$PG_PRIMARY_DIR"
  fi
  log "stopped"
}

# A crash leaves its pid file (or postmaster.pid) behind on purpose: `up` must cope with that.
kill_component() {
  local pid
  case "$1" in
    kafka | ferretdb-primary | ferretdb-replica) pid_alive "$1" || return 0; pid=$(cat "$RUN/$1.pid") ;;
    postgres-primary) [[ -f "$PG_PRIMARY_DIR/postmaster.pid" ]] || return 0; pid=$(head -1 "$PG_PRIMARY_DIR/postmaster.pid") ;;
    postgres-replica) [[ -f "$PG_REPLICA_DIR/postmaster.pid" ]] || return 0; pid=$(head -1 "$PG_REPLICA_DIR/postmaster.pid") ;;
    *) die "unknown component '${1:-}' (kafka, ferretdb-primary, ferretdb-replica, postgres-primary, postgres-replica)" ;;
  esac
  kill -9 "$pid" 2>/dev/null || true
  pid_gone() { ! kill -0 "$pid" 2>/dev/null; }
  wait_for 30 "$1 (pid $pid) to exit" pid_gone
  log "killed $1 (pid $pid)"
}

cmd_status() {
  find_pg_bin || true
  local line
  line() { printf '%-18s %-8s %s\n' "$1" "$2" "$3"; }
  state() { "$@" && echo up || echo down; }
  line kafka "$(state pid_alive kafka)" "127.0.0.1:$KAFKA_PORT"
  line postgres-primary "$(state pg_running "$PG_PRIMARY_DIR")" "127.0.0.1:$PG_PRIMARY_PORT"
  line postgres-replica "$(state pg_running "$PG_REPLICA_DIR")" "127.0.0.1:$PG_REPLICA_PORT"
  line store-write "$(state pid_alive ferretdb-primary)" "$(write_uri)"
  line store-read "$(state pid_alive ferretdb-replica)" "$(read_uri)"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_down; rm -rf "$LOCAL/kafka/data" "$LOCAL/pg" "$RUN"; log "local data deleted" ;;
  stop-component)
    case "${2:-}" in
      kafka | ferretdb-primary | ferretdb-replica) daemon_stop "$2" ;;
      *) die "unknown component '${2:-}' (kafka, ferretdb-primary, ferretdb-replica)" ;;
    esac ;;
  kill-component) kill_component "${2:-}" ;;
  start-component)
    mkdir -p "$LOGS" "$RUN"
    case "${2:-}" in
      kafka) kafka_start; wait_for 120 "Kafka" port_open "$KAFKA_PORT" ;;
      ferretdb-primary) ferretdb_start ferretdb-primary "$STORE_WRITE_PORT" "$PG_PRIMARY_PORT"; wait_for 30 "FerretDB primary" port_open "$STORE_WRITE_PORT" ;;
      ferretdb-replica) ferretdb_start ferretdb-replica "$STORE_READ_PORT" "$PG_REPLICA_PORT"; wait_for 30 "FerretDB replica" port_open "$STORE_READ_PORT" ;;
      *) die "unknown component '${2:-}' (kafka, ferretdb-primary, ferretdb-replica)" ;;
    esac ;;
  *) echo "usage: $0 up|down|status|reset|stop-component NAME|start-component NAME|kill-component NAME" >&2; exit 2 ;;
esac
