# The routing tier: stateless instances behind the load balancer, forwarding to the nodes.

variable "name" {
  description = "Cluster name."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "router_count" {
  description = "Number of routers."
  type        = number
}

variable "instance_type" {
  description = "Router instance type."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets to spread the routers over."
  type        = list(string)
}

variable "vpc_id" {
  description = "VPC of the routers."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR (load balancer health checks)."
  type        = string
}

variable "ami_id" {
  description = "Amazon Linux 2023 AMI the instances boot."
  type        = string
}

variable "instance_profile" {
  description = "IAM instance profile of the routers."
  type        = string
}

variable "node_addresses" {
  description = "host:port of every node."
  type        = list(string)
}

variable "ingest_cidrs" {
  description = "Clients allowed to send events (the network load balancer keeps their source address)."
  type        = list(string)
}

variable "parameters" {
  description = "SSM parameter prefix of the cluster."
  type        = string
}

variable "internal_tls" {
  description = "TLS to the nodes: trust the certificates the nodes published under <parameters>/node-certs/."
  type        = bool
}

variable "catalog_uri" {
  description = "Floe's catalog service (http://host:port, its internal load balancer) the console reads the table's health from (router.catalog-uri), or null where the table lives in another catalog."
  type        = string
  default     = null
}

variable "secret_lines" {
  description = "The role's secrets parameter: FLOE_X=<secret ARN> (environment) and `token NAME SCOPES <secret ARN> [QUOTAS]` (token file) lines, read at each start."
  type        = list(string)
}

variable "log_retention" {
  description = "Log retention, days."
  type        = number
}

locals {
  port = 8080
  # /metrics without a token on loopback only, for the local CloudWatch agent; the public port
  # (and the security group) never serve token names and node addresses without a read token
  metrics_port = 9080
}

resource "aws_security_group" "routers" {
  name_prefix = "${var.name}-routers-"
  description = "Floe routers: ingestion from clients through the load balancer"
  vpc_id      = var.vpc_id

  ingress {
    description = "ingestion and health checks"
    from_port   = local.port
    to_port     = local.port
    protocol    = "tcp"
    cidr_blocks = distinct(concat(var.ingest_cidrs, [var.vpc_cidr]))
  }


  egress {
    description = "nodes, the catalog service, VPC endpoints"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

module "bootstrap" {
  source           = "../bootstrap"
  cluster          = var.name
  role             = "router"
  region           = var.region
  parameters       = var.parameters
  metrics          = ["^floe_router_healthy_nodes$", "^floe_router_no_healthy_node_total$", "^floe_router_forward_errors_total$"]
  stream_metrics   = ["^floe_router_stream_events_total$", "^floe_router_stream_bytes_total$", "^floe_router_stream_errors_total$"]
  metrics_port     = local.metrics_port
  log_group_prefix = "/floe/${var.name}"
}

resource "aws_instance" "router" {
  count                  = var.router_count
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_ids[count.index % length(var.subnet_ids)]
  vpc_security_group_ids = [aws_security_group.routers.id]
  iam_instance_profile   = var.instance_profile
  # private subnets only; AWS is reached through VPC endpoints
  associate_public_ip_address = false
  monitoring                  = true
  user_data_base64            = base64gzip(module.bootstrap.user_data)

  metadata_options {
    http_tokens   = "required"
    http_endpoint = "enabled"
  }

  maintenance_options {
    auto_recovery = "default"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 20
    encrypted   = true
  }

  lifecycle {
    # stateless, but replaced one at a time by scripts/rolling-update --replace, never all at once
    ignore_changes = [ami, user_data, user_data_base64, subnet_id]
  }

  tags = { Name = "${var.name}-router-${count.index}", "floe:role" = "router" }

  # what a router reads at its first start exists before it boots
  depends_on = [aws_ssm_parameter.nodes, aws_ssm_parameter.drained, aws_ssm_parameter.config, aws_ssm_parameter.secrets]
}

# The membership: every node, minus those scripts/rolling-update or scripts/scale-down drained.
# Routers re-read both every 10 seconds, so a scale-up or a drain needs no router restart.
resource "aws_ssm_parameter" "nodes" {
  name        = "${var.parameters}/router/nodes"
  description = "host:port of every Floe node (router membership)"
  type        = "String"
  value       = join("\n", var.node_addresses)
}

resource "aws_ssm_parameter" "drained" {
  name        = "${var.parameters}/router/drained"
  description = "Nodes taken out of the routers' membership by scripts/rolling-update and scripts/scale-down"
  type        = "String"
  value       = "none"

  lifecycle {
    # written by the scripts while they work; an apply must never put a drained node back
    ignore_changes = [value]
  }
}

resource "aws_ssm_parameter" "config" {
  name        = "${var.parameters}/router/config"
  description = "Settings of every Floe router (read at each start)"
  type        = "String"
  # the CloudWatch agent scrapes /metrics without a token from a listener on loopback only
  # router.catalog-uri: the console's table section (its token, router.catalog-token, comes from
  # the secrets parameter as FLOE_ROUTER_CATALOG_TOKEN)
  value = join("\n", concat(["router.port=${local.port}", "router.nodes-file=/etc/floe/nodes", "router.metrics-host=127.0.0.1", "router.metrics-port=${local.metrics_port}"],
    var.internal_tls ? ["router.node-tls-trust-file=/etc/floe/nodes-trust.pem"] : [],
  var.catalog_uri == null ? [] : ["router.catalog-uri=${var.catalog_uri}"]))
}

resource "aws_ssm_parameter" "secrets" {
  name        = "${var.parameters}/router/secrets"
  description = "Secrets Manager ARNs the routers read into their environment at each start"
  type        = "String"
  value       = length(var.secret_lines) == 0 ? "none" : join("\n", var.secret_lines)
}

resource "aws_cloudwatch_log_group" "router" {
  name              = "/floe/${var.name}/router"
  retention_in_days = var.log_retention
}

output "instance_ids" {
  description = "Router instances."
  value       = aws_instance.router[*].id
}

output "parameter_arns" {
  description = "SSM parameters the routers read."
  value       = [aws_ssm_parameter.nodes.arn, aws_ssm_parameter.drained.arn, aws_ssm_parameter.config.arn, aws_ssm_parameter.secrets.arn]
}

output "user_data" {
  description = "First-boot script of the routers."
  value       = module.bootstrap.user_data
}

output "port" {
  description = "Port the routers listen on."
  value       = local.port
}

output "metrics_port" {
  description = "Loopback port each router serves /metrics on without a token (the local scraper's)."
  value       = local.metrics_port
}

output "security_group_id" {
  description = "Security group of the routers."
  value       = aws_security_group.routers.id
}

output "config" {
  description = "The routers' settings (the config parameter's value)."
  value       = aws_ssm_parameter.config.value
}
