# The ingestion nodes. Node i owns partition i: its gp3 volume and its network interface are
# resources of their own, so a replaced instance gets the same volume (never deleted on
# termination, guarded by prevent_destroy) and the same private address. The volume's zone is
# chosen once, when the partition is created, and never follows later changes of the subnet list:
# the network interface (and so the instance) is placed by the volume's zone.

variable "name" {
  description = "Cluster name."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "node_count" {
  description = "Number of nodes."
  type        = number
}

variable "instance_type" {
  description = "c5 or c5d instance type."
  type        = string
}

variable "subnet_by_zone" {
  description = "Availability zone -> private subnet."
  type        = map(string)
}

variable "vpc_id" {
  description = "VPC of the nodes."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR."
  type        = string
}

variable "ami_id" {
  description = "Amazon Linux 2023 AMI of new instances (later changes are ignored; see scripts/rolling-update --replace)."
  type        = string
}

variable "instance_profile" {
  description = "IAM instance profile of the nodes."
  type        = string
}

variable "volume_size_gib" {
  description = "gp3 volume size, GiB."
  type        = number
}

variable "volume_iops" {
  description = "gp3 provisioned IOPS, or null for what the instance type can use."
  type        = number
}

variable "volume_throughput_mibps" {
  description = "gp3 provisioned throughput, MiB/s, or null for what the instance type can use."
  type        = number
}

variable "internal_tls" {
  description = "TLS between routers and nodes: each node a self-signed certificate for its address, published to SSM; routers trust exactly those."
  type        = bool
}

variable "durability" {
  description = "sync, async or none."
  type        = string
}

variable "catalog_properties" {
  description = "Iceberg catalog properties written as catalog.<key> into the node configuration."
  type        = map(string)
}

variable "table_target_file_bytes" {
  description = "Target Parquet file size in bytes."
  type        = number
}

variable "flush_max_age_seconds" {
  description = "Maximum age of unflushed events."
  type        = number
}

variable "dead_letter_alarm_per_minute" {
  description = "Dead letters a node may take per minute, for 5 minutes running, before its dead-letters alarm fires (a producer or a mapping is sending records its stream cannot take)."
  type        = number
  default     = 100
  validation {
    condition     = var.dead_letter_alarm_per_minute >= 0
    error_message = "dead_letter_alarm_per_minute is a count of dead letters per minute, 0 or more."
  }
}

variable "commit_mode" {
  description = "direct or coordinated (commit.mode)."
  type        = string
  default     = "direct"
}

variable "coordinator_churn_alarm_per_15min" {
  description = "commit_mode = coordinated: alarm when the coordinator epoch rises more than this many times in 15 minutes (the committer role keeps moving)."
  type        = number
  default     = 3
}

variable "parameters" {
  description = "SSM parameter prefix of the cluster."
  type        = string
}

variable "secret_lines" {
  description = "The role's secrets parameter: FLOE_X=<secret ARN> (environment) and `token NAME SCOPES <secret ARN> [QUOTAS]` (token file) lines, read at each start."
  type        = list(string)
}

variable "alarm_actions" {
  description = "SNS topics the node alarms notify."
  type        = list(string)
}

variable "log_retention" {
  description = "Log retention, days."
  type        = number
}

locals {
  size = regex("^c5d?\\.(.+)$", var.instance_type)[0]
  # EBS-optimized baseline of each c5/c5d size (AWS "Amazon EBS-optimized instance types"):
  # [IOPS, MB/s]. Provisioning a gp3 volume beyond it is paid for and never used.
  ebs_baseline = {
    "large"    = [4000, 81.25]
    "xlarge"   = [6000, 143.75]
    "2xlarge"  = [10000, 287.5]
    "4xlarge"  = [20000, 593.75]
    "9xlarge"  = [40000, 1187.5]
    "12xlarge" = [40000, 1187.5]
    "18xlarge" = [80000, 2375]
    "24xlarge" = [80000, 2375]
    "metal"    = [80000, 2375]
  }
  baseline = lookup(local.ebs_baseline, local.size, [16000, 1000])
  # gp3 allows 500 IOPS per GiB and 0.25 MiB/s per IOPS: the sizing stays within both
  iops       = var.volume_iops != null ? var.volume_iops : max(3000, min(16000, local.baseline[0], 500 * var.volume_size_gib))
  throughput = var.volume_throughput_mibps != null ? var.volume_throughput_mibps : max(125, min(1000, floor(local.baseline[1] * 1000000 / 1048576), floor(local.iops / 4)))
  zones      = sort(keys(var.subnet_by_zone))
  # c5d types have an NVMe instance store, which EC2 cannot carry over in a recovery
  instance_store = startswith(var.instance_type, "c5d.")
  metrics = [
    "^floe_flush_lag_seconds$", "^floe_buffer_bytes$", "^floe_flush_failures_total$", "^floe_node_ready$", "^floe_node_wal_write_failures_total$", "^floe_columns_refresh_failures_total$", "^floe_dead_letters_total$",
    # the CloudWatch dashboard's panels (modules/dashboard)
    "^floe_node_events_accepted_total$", "^floe_node_accepted_bytes_total$", "^floe_node_request_duration_seconds_sum$", "^floe_node_request_duration_seconds_count$", "^floe_commit_attempts_total$", "^floe_commit_retries_total$",
    # commit.mode=coordinated: the committer role (its alarms below) and the table it commits to
    "^floe_coordinator_known_epoch$", "^floe_coordinator_pending_bytes$", "^floe_coordinator_pending_handovers$", "^floe_coordinator_commits_total$",
    "^floe_table_metadata_bytes$", "^floe_table_manifests$", "^floe_table_snapshots$",
    "^floe_handover_wait_seconds_sum$", "^floe_handover_wait_seconds_count$", "^floe_node_table_reads_total$", "^floe_coordinator_view_loads_total$",
  ]
  buffer_max = floor(var.volume_size_gib * 0.8 * 1073741824)
  node_alarms = {
    not-ready = {
      description = "not ready (or no metrics) for 3 minutes: see /v1/status and its log."
      metric      = "floe_node_ready", statistic = "Minimum", periods = 3, comparison = "LessThanThreshold"
      threshold   = 1, missing = "breaching"
    }
    flush-lag = {
      description = "the oldest unflushed event is older than 10 x flush_max_age_seconds; commits are failing or too slow."
      metric      = "floe_flush_lag_seconds", statistic = "Maximum", periods = 5, comparison = "GreaterThanThreshold"
      threshold   = 10 * var.flush_max_age_seconds, missing = "notBreaching"
    }
    buffer-filling = {
      description = "its buffer holds more than 70% of buffer.max-bytes; it refuses writes at 100%."
      metric      = "floe_buffer_bytes", statistic = "Maximum", periods = 3, comparison = "GreaterThanThreshold"
      threshold   = floor(local.buffer_max * 0.7), missing = "notBreaching"
    }
    dead-letters = {
      description = "more than dead_letter_alarm_per_minute records a minute became dead letters for 5 minutes: see docs/operations.md (dead letters) to find, fix and replay them."
      metric      = "floe_dead_letters_total", statistic = "Sum", periods = 5, comparison = "GreaterThanThreshold"
      threshold   = var.dead_letter_alarm_per_minute, missing = "notBreaching"
    }
    commit-failures = {
      description = "flushes or commits have failed in each of the last 5 minutes (catalog, S3 or permissions)."
      metric      = "floe_flush_failures_total", statistic = "Sum", periods = 5, comparison = "GreaterThanThreshold"
      threshold   = 0, missing = "notBreaching"
    }
  }
  # only the node holding the committer role reports pending hand-overs (0 elsewhere); half of
  # commit.max-pending-bytes (1 GiB by default), where it starts answering busy and nodes buffer
  coordinator_alarms = var.commit_mode != "coordinated" ? {} : {
    coordinator-pending = {
      description = "as the committer it has held over 512 MiB of hand-overs for 5 minutes: the catalog refuses or is slow; nodes buffer and will refuse writes once their buffers fill (docs/operations.md, the committer role)."
      metric      = "floe_coordinator_pending_bytes", statistic = "Maximum", periods = 5, comparison = "GreaterThanThreshold"
      threshold   = 536870912, missing = "notBreaching"
    }
  }
  all_node_alarms = merge(local.node_alarms, local.coordinator_alarms)
}

resource "aws_security_group" "nodes" {
  name_prefix = "${var.name}-nodes-"
  description = "Floe nodes: ingestion from the routers only (rules added by the root module)"
  vpc_id      = var.vpc_id

  egress {
    description = "S3, the catalog, VPC endpoints"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

# commit.mode=coordinated: nodes hand the files they wrote to the node holding the committer role
resource "aws_security_group_rule" "nodes_to_nodes" {
  count                    = var.commit_mode == "coordinated" ? 1 : 0
  type                     = "ingress"
  description              = "nodes hand written files to the committer node (POST /internal/v1/handover)"
  security_group_id        = aws_security_group.nodes.id
  source_security_group_id = aws_security_group.nodes.id
  from_port                = 8081
  to_port                  = 8081
  protocol                 = "tcp"
}

resource "aws_ebs_volume" "data" {
  count             = var.node_count
  availability_zone = local.zones[count.index % length(local.zones)]
  type              = "gp3"
  size              = var.volume_size_gib
  iops              = local.iops
  throughput        = local.throughput
  encrypted         = true
  final_snapshot    = true
  tags              = { Name = "${var.name}-node-${count.index}-data", "floe:partition" = tostring(count.index) }

  lifecycle {
    # a partition's buffered events live here: scripts/scale-down drains and flushes a partition,
    # then removes its volume from the state; nothing else may destroy one
    prevent_destroy = true
    # chosen once; the instance follows the volume, never the other way round
    ignore_changes = [availability_zone]
  }
}

resource "aws_network_interface" "node" {
  count           = var.node_count
  subnet_id       = lookup(var.subnet_by_zone, aws_ebs_volume.data[count.index].availability_zone, null)
  security_groups = [aws_security_group.nodes.id]

  lifecycle {
    precondition {
      condition     = contains(keys(var.subnet_by_zone), aws_ebs_volume.data[count.index].availability_zone)
      error_message = "A partition's data volume is in a zone none of the subnets is in: keep a subnet in every zone that holds a partition (output node_zones)."
    }
  }
  tags = { Name = "${var.name}-node-${count.index}", "floe:partition" = tostring(count.index) }
}

module "bootstrap" {
  source     = "../bootstrap"
  count      = var.node_count
  cluster    = var.name
  role       = "node"
  region     = var.region
  parameters = var.parameters
  # the address other nodes hand their flushes to when this node holds the committer role
  instance_properties = { "node.partition-id" = tostring(count.index), "node.advertise-address" = "${aws_network_interface.node[count.index].private_ip}:8081" }
  ebs_volume_id       = aws_ebs_volume.data[count.index].id
  metrics             = local.metrics
  partition           = tostring(count.index)
  log_group_prefix    = "/floe/${var.name}"
  metrics_ca_file     = var.internal_tls ? "/etc/floe/tls/node.crt" : ""
}

resource "aws_instance" "node" {
  count                = var.node_count
  ami                  = var.ami_id
  instance_type        = var.instance_type
  iam_instance_profile = var.instance_profile
  ebs_optimized        = true
  monitoring           = true
  user_data_base64     = base64gzip(module.bootstrap[count.index].user_data)

  network_interface {
    network_interface_id = aws_network_interface.node[count.index].id
    device_index         = 0
  }

  metadata_options {
    http_tokens   = "required"
    http_endpoint = "enabled"
  }

  maintenance_options {
    auto_recovery = "default"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = 30
    encrypted             = true
    delete_on_termination = true
  }

  lifecycle {
    # routine applies never replace a node: configuration and releases are read at service start
    # (scripts/rolling-update), a new AMI is rolled with scripts/rolling-update --replace
    ignore_changes = [ami, user_data, user_data_base64]
  }

  tags = { Name = "${var.name}-node-${count.index}", "floe:partition" = tostring(count.index), "floe:role" = "node" }

  # what a node reads at its first start exists before it boots (it would retry, but need not)
  depends_on = [aws_ssm_parameter.config, aws_ssm_parameter.secrets]
}

resource "aws_volume_attachment" "data" {
  count                          = var.node_count
  device_name                    = "/dev/sdf"
  volume_id                      = aws_ebs_volume.data[count.index].id
  instance_id                    = aws_instance.node[count.index].id
  stop_instance_before_detaching = true
}

resource "aws_ssm_parameter" "config" {
  name        = "${var.parameters}/node/config"
  description = "Settings of every Floe node (read at each start; the partition id is per instance)"
  type        = "String"
  value = join("\n", concat([
    "http.port=8081",
    "buffer.dir=/var/lib/floe/rocksdb",
    "buffer.durability=${var.durability}",
    "buffer.max-bytes=${local.buffer_max}",
    "table.target-file-size=${var.table_target_file_bytes}",
    "flush.max-age-seconds=${var.flush_max_age_seconds}",
    "commit.mode=${var.commit_mode}",
    # the CloudWatch agent scrapes /metrics locally, without a token (only routers reach a node)
    "auth.metrics-open=true",
    ], var.internal_tls ? ["http.tls.cert-file=/etc/floe/tls/node.crt", "http.tls.key-file=/etc/floe/tls/node.key"] : [],
    # the hand-over to the committer goes to another node: TLS, trusting the nodes' published certificates
    var.internal_tls && var.commit_mode == "coordinated" ? ["commit.cluster-tls-trust-file=/etc/floe/peers-trust.pem"] : [],
  [for k in sort(keys(var.catalog_properties)) : "catalog.${k}=${var.catalog_properties[k]}"]))
}

# Where each node publishes its TLS certificate (floe-instance prepare overwrites the placeholder);
# created here so that a scale-down or a destroy removes it and routers stop trusting it
resource "aws_ssm_parameter" "certificate" {
  count       = var.internal_tls ? var.node_count : 0
  name        = "${var.parameters}/node-certs/${count.index}"
  description = "TLS certificate of the Floe node of partition ${count.index} (written by the node)"
  type        = "String"
  value       = "pending"

  lifecycle {
    ignore_changes = [value]
  }
}

resource "aws_ssm_parameter" "secrets" {
  name        = "${var.parameters}/node/secrets"
  description = "Secrets Manager ARNs the nodes read into their environment at each start"
  type        = "String"
  value       = length(var.secret_lines) == 0 ? "none" : join("\n", var.secret_lines)
}

resource "aws_cloudwatch_log_group" "node" {
  name              = "/floe/${var.name}/node"
  retention_in_days = var.log_retention
}

# The alarms on what each node's CloudWatch agent ships (namespace Floe, by partition)
resource "aws_cloudwatch_metric_alarm" "node" {
  for_each = {
    for pair in setproduct(range(var.node_count), keys(local.all_node_alarms)) :
    "${pair[0]}-${pair[1]}" => merge(local.all_node_alarms[pair[1]], { partition = pair[0], kind = pair[1] })
  }
  alarm_name          = "${var.name}-node-${each.value.partition}-${each.value.kind}"
  alarm_description   = "Node ${each.value.partition}: ${each.value.description}"
  namespace           = "Floe"
  metric_name         = each.value.metric
  dimensions          = { ClusterName = var.name, Role = "node", Partition = tostring(each.value.partition) }
  statistic           = each.value.statistic
  period              = 60
  evaluation_periods  = each.value.periods
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  treat_missing_data  = each.value.missing
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

# commit.mode=coordinated: the coordinator epoch every node has seen; its rise over 15 minutes is
# how often the committer role moved (a node cut off from the holder, timeouts too short, restarts)
resource "aws_cloudwatch_metric_alarm" "coordinator_churn" {
  count               = var.commit_mode == "coordinated" ? var.node_count : 0
  alarm_name          = "${var.name}-node-${count.index}-coordinator-churn"
  alarm_description   = "Node ${count.index}: the coordinator epoch rose more than ${var.coordinator_churn_alarm_per_15min} times in 15 minutes: the committer role keeps moving (docs/operations.md, the committer role)."
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.coordinator_churn_alarm_per_15min
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions

  metric_query {
    id          = "rise"
    expression  = "DIFF(epoch)"
    label       = "coordinator epoch rise per 15 minutes"
    return_data = true
  }

  metric_query {
    id = "epoch"
    metric {
      namespace   = "Floe"
      metric_name = "floe_coordinator_known_epoch"
      dimensions  = { ClusterName = var.name, Role = "node", Partition = tostring(count.index) }
      stat        = "Maximum"
      period      = 900
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "recover" {
  count               = local.instance_store ? 0 : var.node_count
  alarm_name          = "${var.name}-node-${count.index}-recover"
  alarm_description   = "Node ${count.index}: the EC2 system status check failed; EC2 recovers the instance (same id, volume and address)."
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed_System"
  dimensions          = { InstanceId = aws_instance.node[count.index].id }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  alarm_actions       = concat(["arn:aws:automate:${var.region}:ec2:recover"], var.alarm_actions)
}

resource "aws_cloudwatch_metric_alarm" "reboot" {
  count               = var.node_count
  alarm_name          = "${var.name}-node-${count.index}-reboot"
  alarm_description   = "Node ${count.index}: the instance status check failed for 3 minutes; EC2 reboots it."
  namespace           = "AWS/EC2"
  metric_name         = "StatusCheckFailed_Instance"
  dimensions          = { InstanceId = aws_instance.node[count.index].id }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  alarm_actions       = concat(["arn:aws:automate:${var.region}:ec2:reboot"], var.alarm_actions)
}

output "nodes" {
  description = "Each partition's instance, type, zone, subnet, address and gp3 volume."
  value = [for i in range(var.node_count) : {
    partition     = i
    instance_id   = aws_instance.node[i].id
    instance_type = aws_instance.node[i].instance_type
    ami           = aws_instance.node[i].ami
    zone          = aws_ebs_volume.data[i].availability_zone
    subnet_id     = aws_network_interface.node[i].subnet_id
    address       = "${aws_network_interface.node[i].private_ip}:8081"
    interface_id  = aws_network_interface.node[i].id
    volume_id     = aws_ebs_volume.data[i].id
    volume_type   = aws_ebs_volume.data[i].type
    iops          = aws_ebs_volume.data[i].iops
    throughput    = aws_ebs_volume.data[i].throughput
    attached      = aws_volume_attachment.data[i].instance_id == aws_instance.node[i].id
  }]
}

output "alarm_names" {
  description = "The CloudWatch alarms on the nodes' own metrics."
  value       = sort(concat([for a in aws_cloudwatch_metric_alarm.node : a.alarm_name], aws_cloudwatch_metric_alarm.coordinator_churn[*].alarm_name))
}

output "user_data" {
  description = "First-boot script of each node (no secrets in it)."
  value       = module.bootstrap[*].user_data
}

output "addresses" {
  description = "host:port of each node, in partition order."
  value       = [for eni in aws_network_interface.node : "${eni.private_ip}:8081"]
}

output "instance_ids" {
  description = "Node instances, in partition order (for SSM sessions and scripts/rolling-update)."
  value       = aws_instance.node[*].id
}

output "volume_ids" {
  description = "Data volumes, in partition order."
  value       = aws_ebs_volume.data[*].id
}

output "zones" {
  description = "Availability zone of each partition."
  value       = aws_ebs_volume.data[*].availability_zone
}

output "volume_iops" {
  description = "Provisioned IOPS of each data volume."
  value       = local.iops
}

output "volume_throughput_mibps" {
  description = "Provisioned throughput of each data volume, MiB/s."
  value       = local.throughput
}

output "security_group_id" {
  description = "Security group of the nodes."
  value       = aws_security_group.nodes.id
}

output "config" {
  description = "The nodes' settings (the config parameter's value)."
  value       = aws_ssm_parameter.config.value
}

output "certificate_parameters" {
  description = "SSM parameters the nodes publish their TLS certificates to (empty without internal TLS)."
  value       = aws_ssm_parameter.certificate[*].name
}
