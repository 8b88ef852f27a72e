# Sourced by infra.sh: what `up` installs or builds when it is missing or its inputs changed.
PG_BIN=""
find_pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [[ -x "$d/initdb" ]] && PG_BIN="$d"; done
  [[ -n "$PG_BIN" ]]
}

ensure_tools() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  find_pg_bin || missing+=(postgresql)
  # Headless browser for the gateway's browser tests (/docs in Swagger UI, the /console), driven by playwright-core.
  command -v chromium >/dev/null || missing+=(chromium)
  ((${#missing[@]} == 0)) || { log "installing Debian packages: ${missing[*]}"; apt_install "${missing[@]}"; }
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

ensure_node_modules() {
  [[ -f "$ROOT/node_modules/.package-lock.json" && "$ROOT/node_modules/.package-lock.json" -nt "$ROOT/package-lock.json" ]] && return
  log "installing npm dependencies (npm ci)"
  (cd "$ROOT" && npm ci --no-audit --no-fund >"$LOGS/npm-ci.log" 2>&1) || die "npm ci failed, see $LOGS/npm-ci.log"
}

ensure_shared_built() {
  (cd "$ROOT" && npx --no-install turbo run build --filter=@splitstream/shared --output-logs=errors-only >"$LOGS/build-shared.log" 2>&1) \
    || die "building shared/ failed, see $LOGS/build-shared.log"
}

