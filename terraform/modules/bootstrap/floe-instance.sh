#!/usr/bin/env bash
# floe-instance: what runs around a Floe service on its instance (installed as
# /opt/floe/bin/floe-instance by the user data; the role is in /etc/floe/instance.env).
#
#   prepare          before each service start (root): the release named by the SSM parameter
#                    <prefix>/artifact (downloaded only when it changed), the role's properties
#                    (<prefix>/<role>/config + this instance's), its secrets (<prefix>/<role>/secrets
#                    names Secrets Manager ARNs) into an env file readable by the service user only,
#                    and its token file (below); a node refuses to start unless its data volume is
#                    mounted
#   tokens           the role's token file <etc>/<role>.tokens from the `token` lines of
#                    <prefix>/<role>/secrets, rewritten only when it changes (the service re-reads
#                    it: a token rotated in Secrets Manager is accepted without a restart; the
#                    previous value stays accepted as NAME.previous until the next rotation)
#   run              the service (exec java), as the service user
#   membership       routers: /etc/floe/nodes := <prefix>/router/nodes minus <prefix>/router/drained,
#                    rewritten only when it changes (the router re-reads it); with TLS to the nodes
#                    (router.node-tls-trust-file) also that file := the certificates the nodes
#                    published under <prefix>/node-certs/
#   peers            nodes with TLS hand-overs (commit.cluster-tls-trust-file): that file := the
#                    certificates the nodes published (a node added or renewed since the last run)
#
# TLS between routers and nodes: a node whose settings name http.tls.cert-file gets a self-signed
# certificate for its private address (made at prepare when missing, for another address, or
# expiring within 30 days; the key never leaves the instance) and publishes it to
# <prefix>/node-certs/<partition>; routers, and nodes handing over to the committer, trust exactly
# the published certificates.
#   ready | status | flush | wait-ready SECONDS
#                    operators and scripts/rolling-update (through SSM Run Command): the local
#                    service's /health/ready, /v1/status, POST /v1/flush (node)
#   retry N CMD...   runs CMD up to N times with exponential backoff (1 s doubling, at most 30 s)
set -euo pipefail

etc=${FLOE_ETC:-/etc/floe}
home=${FLOE_HOME:-/opt/floe}
run_dir=${FLOE_RUN:-/run/floe}
data=${FLOE_DATA:-/var/lib/floe}
first_delay=${FLOE_RETRY_DELAY:-1}

log() { echo "floe-instance: $*" >&2; }
die() { log "$*"; exit 1; }

retry() {
  local attempts=$1 delay=$first_delay i
  shift
  for ((i = 1; ; i++)); do
    if "$@"; then
      return 0
    fi
    if ((i >= attempts)); then
      log "giving up after $attempts attempts: $1 $2"
      return 1
    fi
    log "attempt $i of $attempts failed, retrying in ${delay}s: $1 $2"
    sleep "$delay"
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
  done
}

[[ -r "$etc/instance.env" ]] || die "$etc/instance.env is missing (written by the user data at first boot)"
# shellcheck source=/dev/null
. "$etc/instance.env"
: "${FLOE_ROLE:?FLOE_ROLE missing in instance.env}" "${FLOE_PARAMETERS:?FLOE_PARAMETERS missing in instance.env}"
: "${AWS_REGION:?AWS_REGION missing in instance.env}"

case "$FLOE_ROLE" in
  node) port=8081 main=io.floe.node.NodeMain heap=50 ;;
  router) port=8080 main=io.floe.router.RouterMain heap=50 ;;
  catalog) port=8181 main=io.floe.catalog.service.CatalogServiceMain heap=60 ;;
  *) die "unknown role '$FLOE_ROLE' in $etc/instance.env" ;;
esac
service_user=${FLOE_USER:-floe}

parameter() {
  aws ssm get-parameter --region "$AWS_REGION" --name "$FLOE_PARAMETERS/$1" --query Parameter.Value --output text
}

# setting KEY FILE: the last value of KEY in a properties file, or nothing
setting() {
  [[ -r "$2" ]] || return 0
  sed -n "s/^$1=//p" "$2" | tail -n 1
}

imds() {
  local t
  t=$(curl -fsS -m 5 -X PUT http://169.254.169.254/latest/api/token -H 'X-aws-ec2-metadata-token-ttl-seconds: 60') &&
    curl -fsS -m 5 -H "X-aws-ec2-metadata-token: $t" "http://169.254.169.254/latest/meta-data/$1"
}

# node_certificate CERT KEY: see "TLS between routers and nodes" above
node_certificate() {
  local cert=$1 key=$2 ip partition
  ip=${FLOE_INSTANCE_IP:-$(retry 5 imds local-ipv4)} || die "cannot read this instance's address from the instance metadata"
  partition=$(setting node.partition-id "$etc/instance.properties")
  [[ "$partition" =~ ^[0-9]+$ ]] || die "$etc/instance.properties names no node.partition-id"
  if [[ ! -r "$cert" || ! -r "$key" ]] || ! openssl x509 -in "$cert" -noout -checkend 2592000 >/dev/null 2>&1 ||
    ! openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null | grep -q "IP Address:$ip\(,\|$\)"; then
    mkdir -p "$(dirname "$cert")" "$(dirname "$key")"
    if ! (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=floe-node-$partition" -addext "subjectAltName=IP:$ip,IP:127.0.0.1" \
      -keyout "$key.new" -out "$cert.new" 2>/dev/null); then
      rm -f "$key.new" "$cert.new"
      die "cannot make the node's TLS certificate"
    fi
    chown "root:$service_user" "$key.new" 2>/dev/null || true
    chmod 640 "$key.new"
    chmod 644 "$cert.new"
    mv "$key.new" "$key"
    mv "$cert.new" "$cert"
    log "TLS certificate made for $ip (partition $partition)"
  fi
  retry 5 aws ssm put-parameter --region "$AWS_REGION" --name "$FLOE_PARAMETERS/node-certs/$partition" \
    --type String --overwrite --value "$(cat "$cert")" >/dev/null ||
    die "cannot publish the TLS certificate to $FLOE_PARAMETERS/node-certs/$partition"
}

# node_trust FILE: FILE := the certificates the nodes published (rewritten only when they change)
node_trust() {
  local file=$1 certs
  certs=$(retry 3 aws ssm get-parameters-by-path --region "$AWS_REGION" --path "$FLOE_PARAMETERS/node-certs" \
    --query 'Parameters[].Value' --output json | jq -r '.[] | select(startswith("-----BEGIN CERTIFICATE-----"))') ||
    { log "cannot read the nodes' certificates from $FLOE_PARAMETERS/node-certs"; return 1; }
  [[ -n "$certs" ]] || { log "no node has published its TLS certificate yet ($FLOE_PARAMETERS/node-certs)"; return 1; }
  if [[ -r "$file" ]] && [[ "$(cat "$file")" == "$certs" ]]; then
    return 0
  fi
  printf '%s\n' "$certs" >"$file.new"
  chmod 644 "$file.new"
  mv "$file.new" "$file"
  log "node certificates trusted: $(grep -c 'BEGIN CERTIFICATE' "$file")"
}

# install_release URI: unpacks the release once per URI under releases/, points current at it
install_release() {
  local uri=$1 release tmp
  release="$home/releases/$(printf '%s' "$uri" | sha256sum | cut -c1-16)"
  if [[ ! -d "$release/$FLOE_ROLE/lib" ]]; then
    log "downloading $uri"
    mkdir -p "$home/releases"
    tmp=$(mktemp -d "$home/releases/.download.XXXXXX")
    if ! retry 5 aws s3 cp --only-show-errors --region "$AWS_REGION" "$uri" "$tmp/floe.tar.gz"; then
      rm -rf "$tmp"
      die "cannot download the release $uri"
    fi
    tar -xzf "$tmp/floe.tar.gz" -C "$tmp"
    rm -f "$tmp/floe.tar.gz"
    [[ -d "$tmp/$FLOE_ROLE/lib" ]] || { rm -rf "$tmp"; die "the release $uri has no $FLOE_ROLE/lib"; }
    rm -rf "$release"
    mv "$tmp" "$release"
  fi
  ln -sfn "$release" "$home/current.new"
  mv -T "$home/current.new" "$home/current"
  printf '%s\n' "$uri" >"$home/current.uri"
  # keep the three most recent releases (the current one among them)
  find "$home/releases" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %p\n' | sort -rn | tail -n +4 |
    cut -d' ' -f2- | while read -r old; do
      [[ "$old" == "$release" ]] || rm -rf "$old"
    done
}

secret_value() { # ARN [STAGE]
  aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$1" \
    --version-stage "${2:-AWSCURRENT}" --query SecretString --output text
}

# write_secrets LINES: each ENV_NAME=secret-arn line becomes ENV_NAME=<value> in <role>.env, and
# each `partition N ENV_NAME=secret-arn` line too on the node of partition N only (its own catalog
# token); `token` lines are for write_tokens
write_secrets() {
  local out="$etc/$FLOE_ROLE.env" tmp var arn value mine
  tmp=$(mktemp "$etc/.env.XXXXXX")
  chmod 600 "$tmp"
  mine=$(setting node.partition-id "$etc/instance.properties")
  while IFS='=' read -r var arn; do
    [[ -z "$var" || "$var" == none || "$var" == "token "* ]] && continue
    if [[ "$var" =~ ^partition\ ([0-9]+)\ (.*)$ ]]; then
      [[ "${BASH_REMATCH[1]}" == "$mine" ]] || continue
      var=${BASH_REMATCH[2]}
    fi
    [[ "$var" =~ ^FLOE_[A-Z0-9_]+$ ]] || { rm -f "$tmp"; die "secrets parameter: '$var' is not a FLOE_* variable name"; }
    if ! value=$(retry 5 secret_value "$arn"); then
      rm -f "$tmp"
      die "cannot read the secret for $var ($arn)"
    fi
    printf '%s=%q\n' "$var" "$value" >>"$tmp"
  done <<<"$1"
  chown "root:$service_user" "$tmp" 2>/dev/null || true
  chmod 640 "$tmp"
  mv "$tmp" "$out"
}

token_hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }

# write_tokens LINES: each `token NAME SCOPES SECRET-ARN [QUOTA...]` line becomes the token file
# line `NAME SCOPES sha256:<hash of the secret's value> [QUOTA...]` (the service never sees a
# token, only its hash), plus `NAME.previous ...` for the secret's previous value while it has one.
# The token named `operator` is also kept in <etc>/operator.token (root only) for the ready,
# status and flush commands. The file is replaced only when it changes.
write_tokens() {
  local out="$etc/$FLOE_ROLE.tokens" tmp kind name scopes arn quotas value previous count=0
  tmp=$(mktemp "$etc/.tokens.XXXXXX")
  chmod 600 "$tmp"
  printf '# written by floe-instance from %s/%s/secrets (hashes only)\n' "$FLOE_PARAMETERS" "$FLOE_ROLE" >"$tmp"
  while read -r kind name scopes arn quotas; do
    [[ "$kind" == token ]] || continue
    if [[ ! "$name" =~ ^[A-Za-z0-9._-]{1,55}$ || ! "$scopes" =~ ^[a-z:*0-9_,-]+$ || -z "$arn" ||
      ! "$quotas" =~ ^([a-z-]+=[0-9A-Za-z.]+( +[a-z-]+=[0-9A-Za-z.]+)*)?$ ]]; then
      rm -f "$tmp"
      die "secrets parameter: the line 'token $name $scopes ...' must be: token NAME SCOPES SECRET-ARN [QUOTA=VALUE...]"
    fi
    if ! value=$(retry 5 secret_value "$arn"); then
      rm -f "$tmp"
      die "cannot read the secret of the token $name ($arn)"
    fi
    printf '%s %s sha256:%s%s\n' "$name" "$scopes" "$(token_hash "$value")" "${quotas:+ $quotas}" >>"$tmp"
    # no previous version (never rotated) is the normal case: one attempt, no retries
    if previous=$(secret_value "$arn" AWSPREVIOUS 2>/dev/null) && [[ -n "$previous" && "$previous" != "$value" ]]; then
      printf '%s.previous %s sha256:%s%s\n' "$name" "$scopes" "$(token_hash "$previous")" "${quotas:+ $quotas}" >>"$tmp"
    fi
    if [[ "$name" == operator ]]; then
      (umask 077 && printf '%s' "$value" >"$etc/operator.token.new") && mv "$etc/operator.token.new" "$etc/operator.token"
    fi
    count=$((count + 1))
  done <<<"$1"
  if ((count == 0)); then
    rm -f "$tmp" "$out"
    return 0
  fi
  chown "root:$service_user" "$tmp" 2>/dev/null || true
  chmod 640 "$tmp"
  if [[ -r "$out" ]] && cmp -s "$tmp" "$out"; then
    rm -f "$tmp"
    return 0
  fi
  mv "$tmp" "$out"
  log "token file $out: $count token(s)"
}

tokens() {
  local secrets
  secrets=$(retry 5 parameter "$FLOE_ROLE/secrets") || die "cannot read the SSM parameter $FLOE_PARAMETERS/$FLOE_ROLE/secrets"
  write_tokens "$secrets"
}

# create_db_user CONNINFO USER: idempotent; PGPASSWORD holds the master password
create_db_user() {
  psql -q -X -v ON_ERROR_STOP=1 -v "svc=$2" "$1" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'svc') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'svc') \gexec
GRANT rds_iam TO :"svc";
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'svc') \gexec
GRANT USAGE, CREATE ON SCHEMA public TO :"svc";
SQL
}

# db_setup: the catalog service's own database user, created (or checked) with the master
# credentials RDS manages and may rotate: read fresh at every start, used only here, never stored
db_setup() {
  local setup host port database user secret_arn master username password rds_ca
  rds_ca="$home/current/catalog/rds-ca.pem"
  [[ -s "$rds_ca" ]] || die "the release $(cat "$home/current.uri") has no catalog/rds-ca.pem (the database's certificate authorities: build it with scripts/package)"
  setup=$(retry 5 parameter catalog/db-setup) || die "cannot read the SSM parameter $FLOE_PARAMETERS/catalog/db-setup"
  host=$(sed -n 's/^host=//p' <<<"$setup")
  port=$(sed -n 's/^port=//p' <<<"$setup")
  database=$(sed -n 's/^database=//p' <<<"$setup")
  user=$(sed -n 's/^user=//p' <<<"$setup")
  secret_arn=$(sed -n 's/^master_secret=//p' <<<"$setup")
  [[ -n "$host" && -n "$port" && -n "$database" && "$user" =~ ^[a-z_][a-z0-9_]*$ && -n "$secret_arn" ]] ||
    die "$FLOE_PARAMETERS/catalog/db-setup must name host, port, database, user (a-z, 0-9, _) and master_secret"
  master=$(retry 5 aws secretsmanager get-secret-value --region "$AWS_REGION" --secret-id "$secret_arn" \
    --query SecretString --output text) || die "cannot read the database master secret"
  username=$(jq -r .username <<<"$master")
  password=$(jq -r .password <<<"$master")
  # the service logs in with IAM tokens (rds_iam); it owns the tables the Iceberg JDBC catalog creates.
  # verify-full: the master password goes only to a server with a certificate from RDS's authorities
  PGPASSWORD=$password retry 5 create_db_user "host=$host port=$port dbname=$database user=$username sslmode=verify-full sslrootcert=$rds_ca connect_timeout=10" "$user" ||
    die "cannot set up the database user $user on $host"
  log "database user $user ready on $host"
}

prepare() {
  if [[ "$FLOE_ROLE" == node ]] && ! mountpoint -q "$data"; then
    die "refusing to start: $data is not a mounted volume (floe-disks.service mounts the node's EBS volume there); events must never be acknowledged onto the root disk"
  fi
  local uri config secrets extra
  uri=$(retry 5 parameter artifact) || die "cannot read the SSM parameter $FLOE_PARAMETERS/artifact"
  config=$(retry 5 parameter "$FLOE_ROLE/config") || die "cannot read the SSM parameter $FLOE_PARAMETERS/$FLOE_ROLE/config"
  secrets=$(retry 5 parameter "$FLOE_ROLE/secrets") || die "cannot read the SSM parameter $FLOE_PARAMETERS/$FLOE_ROLE/secrets"
  install_release "$uri"
  class_data_dir
  [[ "$FLOE_ROLE" != catalog ]] || db_setup
  write_tokens "$secrets"
  {
    printf '# written by floe-instance prepare from %s/%s/config and this instance\n' "$FLOE_PARAMETERS" "$FLOE_ROLE"
    printf '%s\n' "$config"
    [[ ! -r "$etc/instance.properties" ]] || cat "$etc/instance.properties"
    shopt -s nullglob
    for extra in "$run_dir/$FLOE_ROLE"-*.properties; do
      cat "$extra"
    done
    [[ ! -r "$etc/$FLOE_ROLE.tokens" ]] || printf 'auth.tokens-file=%s\n' "$etc/$FLOE_ROLE.tokens"
  } >"$etc/$FLOE_ROLE.properties.new"
  mv "$etc/$FLOE_ROLE.properties.new" "$etc/$FLOE_ROLE.properties"
  write_secrets "$secrets"
  local cert trust
  cert=$(setting http.tls.cert-file "$etc/$FLOE_ROLE.properties")
  if [[ "$FLOE_ROLE" == node && -n "$cert" ]]; then
    node_certificate "$cert" "$(setting http.tls.key-file "$etc/$FLOE_ROLE.properties")"
  fi
  trust=$(trust_file)
  if [[ -n "$trust" ]]; then
    node_trust "$trust" || die "refusing to start: no node certificate to trust yet (systemd retries)"
  fi
  log "prepared $FLOE_ROLE: release $uri"
}

# Class-data archive (AppCDS): the classes a service loads, saved at a clean stop of it and mapped
# by its later starts (a node restarted under load is ready in 0.66x the time: docs/benchmarks.md,
# "A node's restart"). One per release, role and JVM, under <home>/cds (written by the service user).

# class_data_dir: (prepare, root) the archives' directory, without those of other releases
class_data_dir() {
  local keep
  keep="$(basename "$(readlink -f "$home/current")")-"
  install -d -m 755 "$home/cds"
  chown "$service_user:$service_user" "$home/cds" 2>/dev/null || true
  find "$home/cds" -maxdepth 1 -type f ! -name "$keep*" -delete
}

# class_data_option CLASSPATH: the JVM option for the archive: map it when there is one; else record
# one at exit (to <archive>.new). A recorded archive is checked with this JVM and class path before
# it is used: one cut short (the process killed while writing it) would crash the JVM that maps it.
class_data_option() {
  local cp=$1 java=${FLOE_JAVA:-java} dir="$home/cds" binary archive
  [[ "${FLOE_CLASS_DATA:-on}" != off && -d "$dir" && -w "$dir" ]] || return 0
  binary=$(command -v "$java") || return 0
  archive="$dir/$(basename "$(readlink -f "$home/current")")-$FLOE_ROLE-$(stat -Lc %Y "$binary").jsa"
  # this release's archives of a JVM since updated
  find "$dir" -maxdepth 1 -type f -name "$(basename "$(readlink -f "$home/current")")-$FLOE_ROLE-*" \
    ! -name "$(basename "$archive")*" -delete 2>/dev/null || true
  if [[ -f "$archive.new" ]]; then
    # checked with the heap setting the service runs with: it decides the JVM's compressed
    # pointers, which an archive must match (over ~32 GiB of heap they are off)
    if "$java" -Xshare:on "-XX:MaxRAMPercentage=$heap" "-XX:SharedArchiveFile=$archive.new" -cp "$cp" \
      -version >/dev/null 2>&1; then
      mv -f "$archive.new" "$archive"
    else
      rm -f "$archive.new"
      log "the class-data archive recorded at the last stop does not map with this JVM and release: dropped"
    fi
  fi
  if [[ -f "$archive" ]]; then
    printf '%s' "-XX:SharedArchiveFile=$archive"
  else
    printf '%s' "-XX:ArchiveClassesAtExit=$archive.new"
  fi
}

run() {
  set -a
  # shellcheck source=/dev/null
  [[ ! -r "$etc/$FLOE_ROLE.env" ]] || . "$etc/$FLOE_ROLE.env"
  set +a
  export FLOE_CONFIG_FILE="$etc/$FLOE_ROLE.properties"
  local cp="$home/current/$FLOE_ROLE/lib/*" cds
  cds=$(class_data_option "$cp")
  exec "${FLOE_JAVA:-java}" -XX:+ExitOnOutOfMemoryError "-XX:MaxRAMPercentage=$heap" ${cds:+"$cds"} \
    -cp "$cp" "$main"
}

membership() {
  [[ "$FLOE_ROLE" == router ]] || die "membership is for routers"
  local nodes drained want
  nodes=$(retry 3 parameter router/nodes) || die "cannot read $FLOE_PARAMETERS/router/nodes"
  drained=$(retry 3 parameter router/drained) || die "cannot read $FLOE_PARAMETERS/router/drained"
  want=$(grep -vxF -f <(printf '%s\n' "$drained" | tr ', ' '\n' | sed '/^$/d') <<<"$nodes" | sed '/^$/d' || true)
  if [[ -z "$want" ]]; then
    die "membership: every node is drained or none is listed; keeping $etc/nodes as it is"
  fi
  if [[ -r "$etc/nodes" ]] && [[ "$(cat "$etc/nodes")" == "$want" ]]; then
    return 0
  fi
  printf '%s\n' "$want" >"$etc/nodes.new"
  chmod 644 "$etc/nodes.new"
  mv "$etc/nodes.new" "$etc/nodes"
  log "membership: $(tr '\n' ' ' <<<"$want")"
}

# trust_file: where this role keeps the nodes' certificates it trusts, or nothing: a router's
# for its requests to nodes, a node's for its hand-overs to the committer (another node)
trust_file() {
  case "$FLOE_ROLE" in
    router) setting router.node-tls-trust-file "$etc/router.properties" ;;
    node) setting commit.cluster-tls-trust-file "$etc/node.properties" ;;
  esac
}

# the nodes' certificates (a new node, a renewed certificate); the service re-reads the file
membership_trust() {
  local trust
  trust=$(trust_file)
  [[ -z "$trust" ]] || node_trust "$trust" || true
}

# local_http METHOD PATH: the local service (over TLS when it speaks it), with the operator's
# token when the role has one
local_http() {
  local token="" cert args=()
  [[ ! -r "$etc/operator.token" ]] || token=$(cat "$etc/operator.token")
  cert=$(setting http.tls.cert-file "$etc/$FLOE_ROLE.properties")
  local url="${FLOE_LOCAL_URL:-http://127.0.0.1:$port}$2"
  if [[ "$FLOE_ROLE" == node && -n "$cert" && -z "${FLOE_LOCAL_URL:-}" ]]; then
    url="https://127.0.0.1:$port$2"
    args+=(--cacert "$cert")
  fi
  if [[ -n "$token" ]]; then
    curl -fsS -m 120 -X "$1" "${args[@]}" -H @<(printf 'Authorization: Bearer %s\n' "$token") "$url"
  else
    curl -fsS -m 120 -X "$1" "${args[@]}" "$url"
  fi
}

wait_ready() {
  local seconds=$1 i
  for ((i = 0; i < seconds; i++)); do
    if local_http GET /health/ready >/dev/null 2>&1; then
      echo "ready"
      return 0
    fi
    sleep 1
  done
  local_http GET /health/ready || true
  die "not ready after ${seconds}s"
}

command=${1:-}
[[ $# -eq 0 ]] || shift
case "$command" in
  prepare) prepare ;;
  tokens) tokens ;;
  run) run ;;
  membership) membership && membership_trust ;;
  peers) [[ "$FLOE_ROLE" == node ]] || die "peers is for nodes"; membership_trust ;;
  ready) local_http GET /health/ready ;;
  status) local_http GET /v1/status ;;
  flush) [[ "$FLOE_ROLE" == node ]] || die "flush is for nodes"; local_http POST /v1/flush ;;
  wait-ready) wait_ready "${1:-300}" ;;
  retry) retry "$@" ;;
  *) die "usage: floe-instance prepare|tokens|run|membership|peers|ready|status|flush|wait-ready SECONDS|retry N CMD..." ;;
esac
