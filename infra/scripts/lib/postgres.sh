# Sourced by infra.sh: the PostgreSQL primary and its hot standby.
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
  local attempt
  for attempt in 1 2 3 4 5 6; do
    as_pg "$PG_BIN/pg_ctl" -D "$1" -l "$LOGS/postgres-$3.log" -w -t 60 \
      -o "-p $2 -k $PG_SOCKETS" start >/dev/null && return
    # The port lies in Linux's ephemeral range: a client connection may hold it for a while. Wait, retry.
    tail -n 5 "$LOGS/postgres-$3.log" | grep -q 'Address already in use' || break
    log "port $2 is taken by another socket (attempt $attempt of 6), retrying in 10 s"
    sleep 10
  done
  die "PostgreSQL $3 did not start, see $LOGS/postgres-$3.log"
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

# FerretDB v1 pushes an equality filter down to PostgreSQL as `_jsonb->'field' @> value`, which its
# own btree indexes cannot serve: every query would scan the table. GIN indexes on those expressions
# let PostgreSQL answer them from an index (they replicate to the standby). Local store only: a real
# MongoDB uses the indexes in shared/src/store.ts.
LOOKUP_FIELDS="events:tenant events:id events:type events:source events:subject checkpoints:topic deadletters:tenant deadletters:id rollups:slice rollups:rollup"
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

