#!/usr/bin/env bash
# Prepares a Floe node's disks at boot: finds its EBS data volume (RocksDB partition) and, on c5d
# types, its NVMe instance store (Parquet staging) by their NVMe model/serial links in
# /dev/disk/by-id, creates an XFS file system only when a device has none, and mounts with noatime.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: setup-disks.sh --ebs-volume vol-0123... [--data-mount /var/lib/floe] [--staging-mount /mnt/floe-staging]
                      [--by-id-dir /dev/disk/by-id] [--wait-seconds 300] [--dry-run] [--assume-formatted DEV,DEV]
  --dry-run            print what would be done instead of doing it
  --assume-formatted   with --dry-run: devices to treat as already holding a file system
  Prints "staging: <dir>" last: the instance-store mount, or the data mount when there is none.
USAGE
}

by_id=/dev/disk/by-id
ebs_volume=""
data_mount=/var/lib/floe
staging_mount=/mnt/floe-staging
wait_seconds=300
dry_run=false
formatted=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ebs-volume) ebs_volume="$2"; shift ;;
    --data-mount) data_mount="$2"; shift ;;
    --staging-mount) staging_mount="$2"; shift ;;
    --by-id-dir) by_id="$2"; shift ;;
    --wait-seconds) wait_seconds="$2"; shift ;;
    --assume-formatted) formatted="$2"; shift ;;
    --dry-run) dry_run=true ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
[[ "$ebs_volume" =~ ^vol-[0-9a-f]+$ ]] || { echo "setup-disks: --ebs-volume must be an EBS volume id (vol-...), got '$ebs_volume'" >&2; exit 2; }

run() {
  if [[ "$dry_run" == true ]]; then
    echo "would run: $*"
  else
    "$@"
  fi
}

has_filesystem() {
  if [[ "$dry_run" == true ]]; then
    [[ ",$formatted," == *",$1,"* ]]
  else
    blkid -p "$1" >/dev/null 2>&1
  fi
}

# prepare DEVICE MOUNTPOINT LABEL
prepare() {
  local device="$1" mountpoint="$2" label="$3"
  if has_filesystem "$device"; then
    echo "keeping the file system on $device"
  else
    echo "formatting empty $device as XFS ($label)"
    run mkfs.xfs -L "$label" "$device"
  fi
  run mkdir -p "$mountpoint"
  local line="LABEL=$label $mountpoint xfs defaults,noatime,nofail 0 2"
  if [[ "$dry_run" == true ]]; then
    echo "would add to /etc/fstab: $line"
  elif ! grep -q "^LABEL=$label " /etc/fstab; then
    echo "$line" >>/etc/fstab
  fi
  run mount -o noatime "$device" "$mountpoint"
}

# The EBS volume appears once Terraform attaches it, which may be after boot: wait for it.
ebs_link="$by_id/nvme-Amazon_Elastic_Block_Store_${ebs_volume/-/}"
for ((i = 0; i < wait_seconds; i++)); do
  [[ -e "$ebs_link" || -L "$ebs_link" ]] && break
  sleep 1
done
if [[ ! -e "$ebs_link" && ! -L "$ebs_link" ]]; then
  echo "setup-disks: EBS volume $ebs_volume is not attached ($ebs_link missing after ${wait_seconds}s)" >&2
  exit 1
fi
ebs_device=$(readlink -f "$ebs_link")
echo "data volume $ebs_volume is $ebs_device"
prepare "$ebs_device" "$data_mount" floe-data

staging="$data_mount"
store_devices=()
shopt -s nullglob
for link in "$by_id"/nvme-Amazon_EC2_NVMe_Instance_Storage_*; do
  [[ "$link" == *-part* ]] && continue
  device=$(readlink -f "$link")
  [[ " ${store_devices[*]} " == *" $device "* ]] || store_devices+=("$device")
done
if [[ ${#store_devices[@]} -eq 0 ]]; then
  echo "no NVMe instance store: Parquet staging stays on the data volume"
else
  echo "instance store: ${store_devices[*]} (using ${store_devices[0]})"
  prepare "${store_devices[0]}" "$staging_mount" floe-staging
  staging="$staging_mount"
fi
echo "staging: $staging"
