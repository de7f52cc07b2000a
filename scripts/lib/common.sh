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
