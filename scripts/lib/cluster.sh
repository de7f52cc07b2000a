# shellcheck shell=bash
# Helpers of scripts/rolling-update and scripts/scale-down: a deployed cluster, reached through
# `terraform output` and the AWS CLI (SSM Run Command on the instances: they have no public
# address). Source it after common.sh; call cluster_init first.

# cluster_init TERRAFORM_DIR: reads the operations output (region, parameter prefix, instances)
# shellcheck disable=SC2034 # the CLUSTER_* globals are read by the scripts that source this
cluster_init() {
  local dir=$1 ops
  for tool in terraform aws jq; do
    command -v "$tool" >/dev/null || floe_die "$tool is not installed (the scripts need terraform, the AWS CLI and jq)"
  done
  CLUSTER_TF_DIR=$dir
  ops=$(terraform -chdir="$dir" output -json operations) || floe_die "cannot read 'terraform output operations' in $dir"
  CLUSTER_REGION=$(jq -r .region <<<"$ops")
  CLUSTER_PARAMETERS=$(jq -r .parameters <<<"$ops")
  mapfile -t CLUSTER_NODE_IDS < <(jq -r '.node_instance_ids[]' <<<"$ops")
  mapfile -t CLUSTER_NODE_ADDRESSES < <(jq -r '.node_addresses[]' <<<"$ops")
  mapfile -t CLUSTER_ROUTER_IDS < <(jq -r '.router_instance_ids[]' <<<"$ops")
  mapfile -t CLUSTER_CATALOG_IDS < <(jq -r '(.catalog_instance_ids // [])[]' <<<"$ops")
  CLUSTER_ROUTER_TARGETS=$(jq -r '.router_target_group // empty' <<<"$ops")
  CLUSTER_CATALOG_TARGETS=$(jq -r '.catalog_target_group // empty' <<<"$ops")
  [[ ${#CLUSTER_NODE_IDS[@]} -gt 0 ]] || floe_die "the terraform output names no node"
}

# remote INSTANCE COMMAND [TIMEOUT_SECONDS]: runs COMMAND as root through SSM Run Command and
# prints its output; fails when the command fails or does not finish in time
remote() {
  local instance=$1 command=$2 timeout=${3:-900} id status i
  id=$(aws ssm send-command --region "$CLUSTER_REGION" --instance-ids "$instance" \
    --document-name AWS-RunShellScript --timeout-seconds 60 \
    --parameters "$(jq -cn --arg c "$command" --arg t "$timeout" '{commands: [$c], executionTimeout: [$t]}')" \
    --query Command.CommandId --output text) || return 1
  for ((i = 0; i < timeout + 60; i += 2)); do
    status=$(aws ssm get-command-invocation --region "$CLUSTER_REGION" --command-id "$id" --instance-id "$instance" \
      --query Status --output text 2>/dev/null || echo Pending)
    case "$status" in
      Success)
        aws ssm get-command-invocation --region "$CLUSTER_REGION" --command-id "$id" --instance-id "$instance" \
          --query StandardOutputContent --output text
        return 0 ;;
      Failed | Cancelled | TimedOut | Cancelling)
        aws ssm get-command-invocation --region "$CLUSTER_REGION" --command-id "$id" --instance-id "$instance" \
          --query '[StandardOutputContent, StandardErrorContent]' --output text >&2 || true
        return 1 ;;
    esac
    sleep "${CLUSTER_POLL_SECONDS:-2}"
  done
  return 1
}

# remote_until INSTANCE COMMAND SECONDS: retries COMMAND until it succeeds (a new instance's SSM
# agent takes a while to register)
remote_until() {
  local deadline=$((SECONDS + $3))
  until remote "$1" "$2" "$3"; do
    ((SECONDS < deadline)) || return 1
    sleep "${CLUSTER_POLL_SECONDS:-2}"
  done
}

# target_out GROUP INSTANCE PORT: the load balancer stops opening connections to it and lets the
# open ones finish (deregistration delay) before it returns
target_out() {
  aws elbv2 deregister-targets --region "$CLUSTER_REGION" --target-group-arn "$1" --targets "Id=$2,Port=$3" &&
    aws elbv2 wait target-deregistered --region "$CLUSTER_REGION" --target-group-arn "$1" --targets "Id=$2,Port=$3"
}

# target_in GROUP INSTANCE PORT: registered again and passing the load balancer's health check
target_in() {
  aws elbv2 register-targets --region "$CLUSTER_REGION" --target-group-arn "$1" --targets "Id=$2,Port=$3" &&
    aws elbv2 wait target-in-service --region "$CLUSTER_REGION" --target-group-arn "$1" --targets "Id=$2,Port=$3"
}

parameter_get() {
  aws ssm get-parameter --region "$CLUSTER_REGION" --name "$CLUSTER_PARAMETERS/$1" --query Parameter.Value --output text
}

parameter_put() {
  aws ssm put-parameter --region "$CLUSTER_REGION" --name "$CLUSTER_PARAMETERS/$1" --type String --overwrite \
    --value "$2" >/dev/null
}

# drained_set ADDRESS on|off: adds or removes a node from <prefix>/router/drained
drained_set() {
  local address=$1 mode=$2 current next
  current=$(parameter_get router/drained) || floe_die "cannot read $CLUSTER_PARAMETERS/router/drained"
  next=$(printf '%s\n' "$current" | grep -vxF -e none -e "$address" | sed '/^$/d' || true)
  [[ "$mode" == off ]] || next=$(printf '%s\n%s\n' "$next" "$address" | sed '/^$/d')
  parameter_put router/drained "${next:-none}"
}

# routers_see ADDRESS present|absent SECONDS: waits until every router's membership agrees
routers_see() {
  local address=$1 want=$2 seconds=$3 router deadline check
  if [[ "$want" == absent ]]; then
    check="! /opt/floe/bin/floe-instance status | jq -e --arg a '$address' '.nodes[] | select(.node == \$a)' >/dev/null"
  else
    check="/opt/floe/bin/floe-instance status | jq -e --arg a '$address' '.nodes[] | select(.node == \$a and .healthy)' >/dev/null"
  fi
  deadline=$((SECONDS + seconds))
  for router in "${CLUSTER_ROUTER_IDS[@]}"; do
    until remote "$router" "$check" 60 >/dev/null; do
      ((SECONDS < deadline)) || { floe_log "router $router still does not see $address $want after ${seconds}s"; return 1; }
      sleep "${CLUSTER_POLL_SECONDS:-2}"
    done
  done
}
