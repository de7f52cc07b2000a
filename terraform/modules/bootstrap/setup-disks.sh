#!/usr/bin/env bash
# Prepares a Floe node's disks at every boot (floe-disks.service, before floe-node): finds its EBS
# data volume (RocksDB partition) and, on c5d types, its NVMe instance store (Parquet staging) by
# their NVMe model/serial links in /dev/disk/by-id, creates an XFS file system only on a device
# that has none, and mounts with noatime. The data volume is mounted by UUID (/etc/fstab), so the
# node's RequiresMountsFor= can never start it on the root disk; the instance store is blank after
# a stop/start and is formatted again, never listed in /etc/fstab.
set -euo pipefail

usage() {
  cat <<'USAGE'
usage: setup-disks.sh --ebs-volume vol-0123... [--data-mount /var/lib/floe] [--staging-mount /mnt/floe-staging]
                      [--owner floe] [--properties /run/floe/node-disks.properties]
                      [--by-id-dir /dev/disk/by-id] [--fstab /etc/fstab] [--wait-seconds 300]
                      [--dry-run] [--assume-formatted DEV,DEV]
  --owner              user that owns the RocksDB and staging directories
  --properties         file to write the node's staging setting to (catalog.s3.staging-dir=...)
  --dry-run            print what would be done instead of doing it
  --assume-formatted   with --dry-run: devices to treat as already holding a file system
  Prints "staging: <dir>" last: the instance-store mount, or the data mount when there is none.
USAGE
}

by_id=/dev/disk/by-id
fstab=/etc/fstab
ebs_volume=""
data_mount=/var/lib/floe
staging_mount=/mnt/floe-staging
owner=""
properties=""
wait_seconds=300
dry_run=false
formatted=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --ebs-volume) ebs_volume="$2"; shift ;;
    --data-mount) data_mount="$2"; shift ;;
    --staging-mount) staging_mount="$2"; shift ;;
    --owner) owner="$2"; shift ;;
    --properties) properties="$2"; shift ;;
    --by-id-dir) by_id="$2"; shift ;;
    --fstab) fstab="$2"; shift ;;
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

uuid_of() {
  if [[ "$dry_run" == true ]]; then
    echo "uuid-of-$(basename "$1")"
  else
    blkid -s UUID -o value "$1"
  fi
}

is_mounted() {
  [[ "$dry_run" != true ]] && mountpoint -q "$1"
}

# format DEVICE LABEL: an XFS file system, only on a device without one
format() {
  if has_filesystem "$1"; then
    echo "keeping the file system on $1"
  else
    echo "formatting empty $1 as XFS ($2)"
    run mkfs.xfs -L "$2" "$1"
  fi
}

# mount_at DEVICE MOUNTPOINT: mounts with noatime unless something is mounted there already
mount_at() {
  run mkdir -p "$2"
  if is_mounted "$2"; then
    echo "$2 is already mounted"
  else
    run mount -o noatime "$1" "$2"
  fi
}

# owned DIR: a directory for the service user
owned() {
  run mkdir -p "$1"
  [[ -z "$owner" ]] || run chown "$owner:$owner" "$1"
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
format "$ebs_device" floe-data
uuid=$(uuid_of "$ebs_device")
line="UUID=$uuid $data_mount xfs defaults,noatime,nofail 0 2"
if [[ "$dry_run" == true ]]; then
  echo "would set in $fstab: $line"
elif ! grep -qxF "$line" "$fstab"; then
  # one line for the data mount, naming this volume's file system
  grep -v "[[:space:]]${data_mount}[[:space:]]" "$fstab" >"$fstab.floe" || true
  echo "$line" >>"$fstab.floe"
  mv "$fstab.floe" "$fstab"
  systemctl daemon-reload 2>/dev/null || true
fi
mount_at "$ebs_device" "$data_mount"
owned "$data_mount/rocksdb"

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
  format "${store_devices[0]}" floe-staging
  mount_at "${store_devices[0]}" "$staging_mount"
  staging="$staging_mount"
fi
owned "$staging/s3-staging"
if [[ -n "$properties" ]]; then
  if [[ "$dry_run" == true ]]; then
    echo "would write $properties: catalog.s3.staging-dir=$staging/s3-staging"
  else
    mkdir -p "$(dirname "$properties")"
    echo "catalog.s3.staging-dir=$staging/s3-staging" >"$properties"
  fi
fi
echo "staging: $staging"
