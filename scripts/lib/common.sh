# shellcheck shell=bash
# Helpers shared by the scripts in scripts/. Source it; do not run it.

FLOE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export FLOE_ROOT

floe_log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

floe_die() { floe_log "error: $*"; exit 1; }

# The java binary: $JAVA_HOME/bin/java when set, else the one on PATH.
floe_java() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
    echo "$JAVA_HOME/bin/java"
  else
    command -v java || floe_die "java (17 or newer) is not installed"
  fi
}

# A random token: 48 hex characters from /dev/urandom.
floe_new_token() {
  od -An -N24 -tx1 /dev/urandom | tr -d ' \n'
}

# floe_token_line NAME SCOPES TOKEN: the token's line in a token file (auth.tokens-file): only its hash.
floe_token_line() {
  printf '%s %s sha256:%s\n' "$1" "$2" "$(printf '%s' "$3" | sha256sum | cut -d' ' -f1)"
}

# Builds the modules (skipping tests) when any source is newer than the last build.
floe_build() {
  local stamp="$FLOE_ROOT/it-tests/target/.floe-built"
  if [[ -f "$stamp" ]] && [[ -z "$(find "$FLOE_ROOT" -path '*/target' -prune -o -newer "$stamp" \
        \( -name '*.java' -o -name 'pom.xml' -o -name '*.xml' -o -name '*.properties' \) -print -quit)" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || floe_die "Maven (mvn) is not installed"
  floe_log "building Floe (mvn package, tests skipped; the first build downloads dependencies)..."
  # target/lib is refilled by the build: a jar a dependency change dropped must not linger there
  # (it would end up on the services' classpath and in the release tarball)
  find "$FLOE_ROOT" -path '*/node_modules' -prune -o -type d -path '*/target/lib' -print0 | xargs -0 -r rm -rf
  (cd "$FLOE_ROOT" && mvn -B -q -DskipTests package) || floe_die "build failed"
  touch "$stamp"
  floe_log "build done"
}

# Classpath of a module's classes and its runtime dependencies.
floe_classpath() {
  echo "$FLOE_ROOT/$1/target/classes:$FLOE_ROOT/$1/target/lib/*"
}

# Installs a Debian package when its command is missing (needs root or sudo).
floe_ensure_command() {
  local cmd="$1" pkg="${2:-$1}"
  command -v "$cmd" >/dev/null && return 0
  floe_log "installing $pkg (apt-get)..."
  local sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  if ! { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq "$pkg" >/dev/null; }; then
    floe_die "could not install $pkg; install it and run again"
  fi
}

# Waits until GET $1 answers 200, for at most $2 seconds (default 60).
floe_wait_http() {
  local url="$1" limit="${2:-60}" i
  for ((i = 0; i < limit * 10; i++)); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# A free TCP port on loopback.
floe_free_port() {
  "$(floe_java)" -cp "$FLOE_ROOT/common/target/classes" io.floe.common.net.FreePort 2>/dev/null \
    || echo $((20000 + RANDOM % 20000))
}

# Baseline for ingestion benchmarks: fio writes SIZE bytes to DIR in BLOCK-byte writes with an
# fdatasync after each (what a durable ack per request would cost); prints the MB/s.
floe_fio_baseline() {
  local dir="$1" size="$2" block="$3" kib
  rm -rf "$dir"; mkdir -p "$dir"
  kib=$(fio --name=baseline --directory="$dir" --rw=write --bs="$block" --size="$size" \
    --fdatasync=1 --ioengine=sync --minimal | awk -F';' '{print $48}')
  rm -rf "$dir"
  awk -v k="$kib" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'
}

# A numeric field of the load generator's JSON summary.
floe_json_number() {
  sed -E "s/.*\"$1\":([0-9.]+).*/\\1/" <<<"$2"
}

# Runs a main class of the Spark module's test code (benchmarks that query with local Spark):
# compiles the module, resolves its test classpath once per build, and execs the JVM with the
# module opens Spark needs. The Floe services it starts run from it-tests/target/lib.
floe_run_spark() {
  local main="$1" cp="$FLOE_ROOT/it-tests/spark/target/bench.classpath"
  shift
  (cd "$FLOE_ROOT" && mvn -B -q -pl it-tests/spark test-compile dependency:build-classpath \
    -Dmdep.outputFile="$cp" -Dmdep.includeScope=test -DexcludeTypes=tar.gz) || floe_die "could not build the Spark module"
  FLOE_LOG_LEVEL=WARN exec "$(floe_java)" -Xmx6g --add-opens=java.base/sun.nio.ch=ALL-UNNAMED \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED \
    --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED \
    -Dfloe.services.lib="$FLOE_ROOT/it-tests/target/lib" \
    -cp "$FLOE_ROOT/it-tests/spark/target/test-classes:$(cat "$cp")" "$main" "$@"
}

# Local services, started in the background on loopback, as scripts/quickstart and
# scripts/bench-scale --real run them. Each sets FLOE_PID to the process it started.

# floe_start_s3 DIR PORT LOG: the S3-compatible server on the local file system (bucket floe, key
# pair floe / floe-local-secret); returns once it listens, fails when it does not within 30 s.
# Sets FLOE_S3_ENV: the settings that point the catalog service at it.
# shellcheck disable=SC2034 # FLOE_PID is read by the scripts that source this
floe_start_s3() {
  local dir=$1 port=$2 log=$3
  "$(floe_java)" -cp "$(floe_classpath catalog/local)" io.floe.catalog.local.LocalS3Main --dir "$dir" --port "$port" \
    >"$log" 2>&1 &
  FLOE_PID=$!
  FLOE_S3_ENV=("FLOE_CATALOG_S3_ENDPOINT=http://127.0.0.1:$port" FLOE_CATALOG_S3_PATH_STYLE_ACCESS=true
    FLOE_CATALOG_S3_ACCESS_KEY_ID=floe FLOE_CATALOG_S3_SECRET_ACCESS_KEY=floe-local-secret
    FLOE_CATALOG_CLIENT_REGION=us-east-1)
  for _ in $(seq 1 300); do grep -q "listening" "$log" 2>/dev/null && return 0; sleep 0.1; done
  grep -q "listening" "$log"
}

# floe_start_catalog PORT DB LOG [NAME=VALUE...]: the catalog service over the SQLite file DB, its
# warehouse in the S3-compatible server floe_start_s3 started, with the settings given (e.g.
# FLOE_AUTH_TOKENS_FILE=...). Does not wait: floe_wait_http .../health/ready.
# shellcheck disable=SC2034 # FLOE_PID is read by the scripts that source this
floe_start_catalog() {
  local port=$1 db=$2 log=$3
  shift 3
  env "${FLOE_S3_ENV[@]}" FLOE_SERVICE_PORT="$port" FLOE_SERVICE_HOST=127.0.0.1 \
    FLOE_CATALOG_URI="jdbc:sqlite:$db" FLOE_CATALOG_WAREHOUSE=s3://floe/warehouse "$@" \
    "$(floe_java)" -XX:+ExitOnOutOfMemoryError -cp "$(floe_classpath catalog/service)" \
    io.floe.catalog.service.CatalogServiceMain >"$log" 2>&1 &
  FLOE_PID=$!
}

# floe_start_node PARTITION PORT DIR LOG CATALOG_PORT "JVM OPTIONS" [NAME=VALUE...]: a node of
# partition PARTITION on PORT with its buffer in DIR, committing through the catalog service on
# CATALOG_PORT, with the settings given. The local S3-compatible server keeps multipart uploads in
# extended attributes, which some file systems lack: local nodes upload each file (up to 1.5 GiB)
# in one PUT. Does not wait: floe_wait_http .../health/ready.
# shellcheck disable=SC2034 # FLOE_PID is read by the scripts that source this
floe_start_node() {
  local partition=$1 port=$2 dir=$3 log=$4 catalog_port=$5 jvm
  read -r -a jvm <<<"$6"
  shift 6
  env FLOE_CATALOG_S3_MULTIPART_PART_SIZE_BYTES=1073741824 FLOE_NODE_PARTITION_ID="$partition" \
    FLOE_HTTP_PORT="$port" FLOE_HTTP_HOST=127.0.0.1 FLOE_BUFFER_DIR="$dir" \
    FLOE_CATALOG_URI="http://127.0.0.1:$catalog_port" "$@" \
    "$(floe_java)" -XX:+ExitOnOutOfMemoryError "${jvm[@]}" -cp "$(floe_classpath node)" io.floe.node.NodeMain \
    >"$log" 2>&1 &
  FLOE_PID=$!
}
