# The user data of a Floe instance, for each role (node, router, catalog): a first-boot script
# that installs the service and its helpers; see user_data.sh.tftpl. It holds no configuration
# and no secret, so it stays the same across configuration and release changes.

variable "cluster" {
  description = "Cluster name (log groups, metric dimensions)."
  type        = string
}

variable "role" {
  description = "node, router or catalog."
  type        = string
  validation {
    condition     = contains(["node", "router", "catalog"], var.role)
    error_message = "role must be node, router or catalog."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "parameters" {
  description = "SSM parameter prefix of the cluster (/floe/<name>)."
  type        = string
}

variable "instance_properties" {
  description = "Settings of this instance only (e.g. node.partition-id), appended to the role's configuration."
  type        = map(string)
  default     = {}
}

variable "ebs_volume_id" {
  description = "The node's data volume (mounted before the service starts), or empty for other roles."
  type        = string
  default     = ""
}

variable "metrics" {
  description = "Prometheus metric name patterns shipped to CloudWatch (namespace Floe) with the cluster and partition as dimensions."
  type        = list(string)
  default     = []
}

variable "stream_metrics" {
  description = "Prometheus metric name patterns shipped like metrics, with their stream label as one more dimension (the router's per-stream traffic)."
  type        = list(string)
  default     = []
}

variable "partition" {
  description = "Partition id as a metric dimension (nodes), or empty."
  type        = string
  default     = ""
}

variable "metrics_port" {
  description = "Port of the local listener the scraper reads /metrics from, or 0 for the service's own port."
  type        = number
  default     = 0
}

variable "metrics_ca_file" {
  description = "The service's certificate when it speaks TLS (the local scrape verifies it), or empty."
  type        = string
  default     = ""
}

variable "log_group_prefix" {
  description = "CloudWatch log group prefix (/floe/<name>)."
  type        = string
}

locals {
  ports = { node = 8081, router = 8080, catalog = 8181 }
  packages = concat(
    ["java-17-amazon-corretto-headless", "amazon-cloudwatch-agent", "jq", "logrotate"],
    var.ebs_volume_id != "" ? ["xfsprogs"] : [],
    var.role == "catalog" ? ["postgresql16"] : [],
  )
  labels = merge({ ClusterName = var.cluster, Role = var.role }, var.partition == "" ? {} : { Partition = var.partition })
  prometheus = {
    global = { scrape_interval = "30s", scrape_timeout = "10s" }
    scrape_configs = [{
      job_name       = "floe-${var.role}"
      metrics_path   = "/metrics"
      static_configs = [{ targets = ["127.0.0.1:${var.metrics_port == 0 ? local.ports[var.role] : var.metrics_port}"], labels = local.labels }]
      scheme         = var.metrics_ca_file == "" ? "http" : "https"
      tls_config     = var.metrics_ca_file == "" ? tomap({}) : tomap({ ca_file = var.metrics_ca_file })
    }]
  }
  cloudwatch = {
    agent = { metrics_collection_interval = 60, run_as_user = "cwagent" }
    logs = {
      force_flush_interval = 15
      logs_collected = merge({
        files = {
          collect_list = [
            { file_path = "/var/log/floe/${var.role}.log", log_group_name = "${var.log_group_prefix}/${var.role}", log_stream_name = "{instance_id}" },
            { file_path = "/var/log/floe-setup.log", log_group_name = "${var.log_group_prefix}/setup", log_stream_name = "{instance_id}" },
          ]
        }
        }, length(var.metrics) == 0 ? {} : {
        prometheus = {
          log_group_name         = "${var.log_group_prefix}/prometheus"
          prometheus_config_path = "/opt/aws/amazon-cloudwatch-agent/etc/prometheus.yaml"
          emf_processor = {
            metric_declaration_dedup = true
            metric_namespace         = "Floe"
            metric_declaration = concat([{
              source_labels    = ["job"]
              label_matcher    = "^floe-${var.role}$"
              dimensions       = [sort(keys(local.labels))]
              metric_selectors = var.metrics
              }], length(var.stream_metrics) == 0 ? [] : [{
              source_labels    = ["job"]
              label_matcher    = "^floe-${var.role}$"
              dimensions       = [sort(concat(keys(local.labels), ["stream"]))]
              metric_selectors = var.stream_metrics
            }])
          }
        }
      })
    }
    metrics = {
      namespace = "Floe/Host"
      metrics_collected = {
        disk = { resources = var.ebs_volume_id != "" ? ["/", "/var/lib/floe"] : ["/"], measurement = ["used_percent"] }
        mem  = { measurement = ["mem_used_percent"] }
      }
      append_dimensions = { InstanceId = "$${aws:InstanceId}" }
    }
  }
}

output "user_data" {
  description = "The first-boot script."
  value = templatefile("${path.module}/user_data.sh.tftpl", {
    cluster              = var.cluster
    role                 = var.role
    region               = var.region
    parameters           = var.parameters
    instance_properties  = var.instance_properties
    ebs_volume_id        = var.ebs_volume_id
    packages             = local.packages
    floe_instance        = file("${path.module}/floe-instance.sh")
    setup_disks          = file("${path.module}/setup-disks.sh")
    stop_timeout_seconds = var.role == "node" ? 120 : 30
    prometheus_config    = yamlencode(local.prometheus)
    cloudwatch_config    = jsonencode(local.cloudwatch)
  })
}

output "port" {
  description = "Port the role's service listens on."
  value       = local.ports[var.role]
}
