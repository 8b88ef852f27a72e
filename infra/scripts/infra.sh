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

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="${SPLITSTREAM_LOCAL:-$ROOT/.local}"
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

log() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

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

# ---------------------------------------------------------------- installation
PG_BIN=""
find_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" ]] && PG_BIN="$d"; done
  [[ -n "$PG_BIN" ]]
}

apt_install() {
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  log "installing Debian packages: $*"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_tools() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  find_pg_bin || missing+=(postgresql)
  # Headless browser for the gateway's /docs test (Swagger UI driven by playwright-core).
  command -v chromium >/dev/null || missing+=(chromium)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
  find_pg_bin || die "PostgreSQL binaries not found after install"
  command -v go >/dev/null || die "Go is required to build FerretDB (https://go.dev); none on PATH"
}

ensure_kafka_jars() {
  local stamp
  stamp=$(stamp_of "$ROOT/infra/kafka/pom.xml")
  [[ -f "$KAFKA_LIBS/.stamp" && "$(cat "$KAFKA_LIBS/.stamp")" == "$stamp" ]] && return
  log "resolving Kafka broker jars from Maven Central"
  rm -rf "$KAFKA_LIBS" && mkdir -p "$KAFKA_LIBS"
  mvn -q -B -f "$ROOT/infra/kafka/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime >"$LOGS/maven.log" 2>&1 \
    || die "maven failed, see $LOGS/maven.log"
  echo "$stamp" >"$KAFKA_LIBS/.stamp"
}

ensure_ferretdb() {
  local stamp
  stamp=$(stamp_of "$ROOT"/infra/ferretdb/{go.mod,go.sum,main.go})
  [[ -x "$FERRETDB_BIN" && -f "$BIN/.ferretdb.stamp" && "$(cat "$BIN/.ferretdb.stamp")" == "$stamp" ]] && return
  log "building FerretDB v1 (go build, first time takes a minute or two)"
  (cd "$ROOT/infra/ferretdb" && go build -o "$FERRETDB_BIN" .) >"$LOGS/ferretdb-build.log" 2>&1 \
    || die "FerretDB build failed, see $LOGS/ferretdb-build.log"
  echo "$stamp" >"$BIN/.ferretdb.stamp"
}

# ---------------------------------------------------------------- PostgreSQL
# initdb and postgres refuse to run as root: run them as the postgres user then.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_own() { [[ $(id -u) -eq 0 ]] && chown -R postgres: "$@" || true; }

pg_running() { as_pg "$PG_BIN/pg_ctl" -D "$1" status >/dev/null 2>&1; }

pg_start() { # pg_start <dir> <port> <name>
  pg_running "$1" && return
  log "starting PostgreSQL $3 on port $2"
  touch "$LOGS/postgres-$3.log" && pg_own "$LOGS/postgres-$3.log"
  as_pg "$PG_BIN/pg_ctl" -D "$1" -l "$LOGS/postgres-$3.log" -w -t 60 \
    -o "-p $2 -k $PG_SOCKETS" start >/dev/null || die "PostgreSQL $3 did not start, see $LOGS/postgres-$3.log"
}

pg_stop() { pg_running "$1" && as_pg "$PG_BIN/pg_ctl" -D "$1" -m fast -w stop >/dev/null || true; }

psql_primary() { as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -d postgres -Atqc "$1"; }

ensure_pg_primary() {
  mkdir -p "$PG_SOCKETS" && pg_own "$LOCAL/pg"
  if [[ ! -f "$PG_PRIMARY_DIR/PG_VERSION" ]]; then
    log "initialising PostgreSQL primary"
    mkdir -p "$PG_PRIMARY_DIR" && pg_own "$PG_PRIMARY_DIR"
    as_pg "$PG_BIN/initdb" -D "$PG_PRIMARY_DIR" -U postgres -E UTF8 --locale=C -A trust >"$LOGS/initdb.log" 2>&1 \
      || die "initdb failed, see $LOGS/initdb.log"
    as_pg tee -a "$PG_PRIMARY_DIR/postgresql.conf" >/dev/null <<EOF
# splitstream: primary of a streaming-replication pair
listen_addresses = '127.0.0.1'
wal_level = replica
max_wal_senders = 5
wal_keep_size = 256MB
hot_standby = on
hot_standby_feedback = on
max_standby_streaming_delay = 30s
max_connections = 200
shared_buffers = 256MB
EOF
    as_pg tee -a "$PG_PRIMARY_DIR/pg_hba.conf" >/dev/null <<EOF
host replication all 127.0.0.1/32 trust
host all all 127.0.0.1/32 trust
EOF
  fi
  pg_start "$PG_PRIMARY_DIR" "$PG_PRIMARY_PORT" primary
  [[ "$(psql_primary "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'")" == 1 ]] \
    || psql_primary "CREATE DATABASE $PG_DATABASE ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
}

ensure_pg_replica() {
  if [[ ! -f "$PG_REPLICA_DIR/standby.signal" ]]; then
    log "creating PostgreSQL hot standby (pg_basebackup)"
    rm -rf "$PG_REPLICA_DIR" && mkdir -p "$PG_REPLICA_DIR" && pg_own "$PG_REPLICA_DIR" && chmod 700 "$PG_REPLICA_DIR"
    as_pg "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -D "$PG_REPLICA_DIR" -R -X stream \
      >"$LOGS/basebackup.log" 2>&1 || die "pg_basebackup failed, see $LOGS/basebackup.log"
  fi
  pg_start "$PG_REPLICA_DIR" "$PG_REPLICA_PORT" replica
}

# Blocks until the standby has replayed everything the primary had written when called.
wait_replica_caught_up() {
  local target
  target=$(psql_primary "SELECT pg_current_wal_lsn()")
  replayed() {
    [[ "$(as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_REPLICA_PORT" -U postgres -d postgres -Atqc \
      "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")" == t ]]
  }
  wait_for 60 "the standby to replay $target" replayed
}

# ---------------------------------------------------------------- daemons (Kafka, FerretDB)
daemon_start() { # daemon_start <name> <port> <command...>
  local name="$1" port="$2"; shift 2
  pid_alive "$name" && return
  port_open "$port" && die "port $port is taken by another process (set the matching *_PORT variable)"
  log "starting $name on port $port"
  setsid nohup "$@" >>"$LOGS/$name.out" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
}

daemon_stop() {
  pid_alive "$1" || { rm -f "$RUN/$1.pid"; return 0; }
  local pid; pid=$(cat "$RUN/$1.pid")
  kill "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || { kill -9 "$pid" 2>/dev/null || true; break; }
    sleep 0.2
  done
  rm -f "$RUN/$1.pid"
}

kafka_start() {
  local props="$LOCAL/kafka/server.properties"
  sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
    -e "s|@KAFKA_DATA_DIR@|$KAFKA_DATA|g" "$ROOT/infra/kafka/server.properties.template" >"$props"
  local java=(java -Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true -Dkafka.logs.dir="$LOGS"
    -Dlog4j2.configurationFile="$ROOT/infra/kafka/log4j2.properties" -cp "$KAFKA_LIBS/*")
  if [[ ! -f "$KAFKA_DATA/meta.properties" ]]; then
    log "formatting Kafka KRaft storage"
    local cluster_id
    cluster_id=$("${java[@]}" kafka.tools.StorageTool random-uuid 2>>"$LOGS/kafka-format.log")
    "${java[@]}" kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$props" \
      >>"$LOGS/kafka-format.log" 2>&1 || die "Kafka storage format failed, see $LOGS/kafka-format.log"
  fi
  daemon_start kafka "$KAFKA_PORT" "${java[@]}" kafka.Kafka "$props"
}

ferretdb_start() { # ferretdb_start <name> <listen port> <postgres port>
  daemon_start "$1" "$2" "$FERRETDB_BIN" --listen-addr="127.0.0.1:$2" \
    --postgresql-url="postgres://postgres@127.0.0.1:$3/$PG_DATABASE?pool_max_conns=40" --log-level=warn
}

# ---------------------------------------------------------------- bootstrap
bootstrap() { # topics, database, collections, indexes, dev API keys; prints "changed" when the store layout changed
  local env=(KAFKA_BROKERS="127.0.0.1:$KAFKA_PORT" MONGO_WRITE_URI="$(write_uri)")
  env "${env[@]}" node "$ROOT/infra/scripts/bootstrap.js" 2>>"$LOGS/bootstrap.log"
}

# FerretDB v1 pushes an equality filter down to PostgreSQL as `_jsonb->'field' @> value`, which its
# own btree indexes cannot serve: every query would scan the table. GIN indexes on those expressions
# let PostgreSQL answer them from an index (they replicate to the standby). Local store only: a real
# MongoDB uses the indexes in shared/src/store.ts.
LOOKUP_FIELDS="events:tenant events:id events:type events:source events:subject checkpoints:topic deadletters:tenant deadletters:id"
ensure_pg_lookup_indexes() {
  local pair collection field table
  for pair in $LOOKUP_FIELDS; do
    collection=${pair%%:*} field=${pair##*:}
    table=$(as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -d "$PG_DATABASE" -Atqc \
      "SELECT _jsonb->>'table' FROM splitstream._ferretdb_database_metadata WHERE _jsonb->>'_id' = '$collection'")
    [[ -n "$table" ]] || die "collection $collection missing after bootstrap"
    as_pg "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PRIMARY_PORT" -U postgres -d "$PG_DATABASE" -qc \
      "CREATE INDEX IF NOT EXISTS ${table}_lookup_${field} ON splitstream.$table USING gin ((_jsonb->'$field') jsonb_path_ops)" \
      >/dev/null 2>>"$LOGS/bootstrap.log" || die "creating lookup index on $collection.$field failed, see $LOGS/bootstrap.log"
  done
}

write_uri() { echo "mongodb://127.0.0.1:$STORE_WRITE_PORT/?directConnection=true&retryWrites=false"; }
read_uri() { echo "mongodb://127.0.0.1:$STORE_READ_PORT/?directConnection=true&retryWrites=false&readPreference=secondaryPreferred"; }

ensure_node_modules() {
  [[ -f "$ROOT/node_modules/.package-lock.json" && "$ROOT/node_modules/.package-lock.json" -nt "$ROOT/package-lock.json" ]] && return
  log "installing npm dependencies (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund >"$LOGS/npm-ci.log" 2>&1) || die "npm ci failed, see $LOGS/npm-ci.log"
}

ensure_shared_built() {
  (cd "$ROOT" && npx --no-install turbo run build --filter=@splitstream/shared --output-logs=errors-only >"$LOGS/build-shared.log" 2>&1) \
    || die "building shared/ failed, see $LOGS/build-shared.log"
}

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
