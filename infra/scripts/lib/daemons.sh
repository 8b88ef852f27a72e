# Sourced by infra.sh: the daemons it starts itself (Kafka, the FerretDB endpoints), by pid file.
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

