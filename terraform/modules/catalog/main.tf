# The catalog the table lives in, chosen by catalog_type:
#   floe     - Floe's Iceberg REST catalog service: instances in several zones behind an internal
#              network load balancer (a stable DNS name: replacing an instance changes nothing in the
#              nodes' configuration), over a Multi-AZ RDS PostgreSQL. The service logs in as its own
#              database user with IAM database authentication (a token per connection, nothing to
#              rotate); the RDS-managed master password is read only at service start, to create
#              that user, so RDS may rotate it at will.
#   glue     - the AWS Glue Data Catalog (a database for the table)
#   s3tables - an Amazon S3 Tables table bucket and namespace (Iceberg REST with SigV4)

variable "name" {
  description = "Cluster name."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "catalog_type" {
  description = "floe, glue or s3tables."
  type        = string
}

variable "vpc_id" {
  description = "VPC to deploy into."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets for the service and the database."
  type        = list(string)
}

variable "instance_type" {
  description = "Instance type of the catalog service."
  type        = string
}

variable "db_instance_class" {
  description = "RDS instance class."
  type        = string
}

variable "ami_id" {
  description = "Amazon Linux 2023 AMI the instances boot."
  type        = string
}

variable "instance_profile" {
  description = "IAM instance profile of the catalog service."
  type        = string
}

variable "warehouse" {
  description = "Warehouse location (s3://bucket/warehouse)."
  type        = string
}

variable "client_cidrs" {
  description = "CIDRs of the query engines (Spark, Trino) allowed to call the catalog service."
  type        = list(string)
}

variable "node_security_group_id" {
  description = "Security group of the nodes, which commit through the catalog service."
  type        = string
}

variable "router_security_group_id" {
  description = "Security group of the routers, whose console reads the catalog's /metrics and column list (catalog:read)."
  type        = string
}

variable "instance_count" {
  description = "Catalog service instances (spread over the subnets' zones)."
  type        = number
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
  description = "SNS topics the catalog alarms notify."
  type        = list(string)
}

variable "log_retention" {
  description = "Log retention, days."
  type        = number
}

locals {
  floe     = var.catalog_type == "floe" ? 1 : 0
  glue     = var.catalog_type == "glue" ? 1 : 0
  s3tables = var.catalog_type == "s3tables" ? 1 : 0
  port     = 8181
  db_user  = "floe_catalog"
}

resource "aws_security_group" "service" {
  count       = local.floe
  name_prefix = "${var.name}-catalog-"
  description = "Floe catalog service: Iceberg REST API through its load balancer only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "Iceberg REST catalog API and health checks, from the internal load balancer"
    from_port       = local.port
    to_port         = local.port
    protocol        = "tcp"
    security_groups = [aws_security_group.lb[0].id]
  }

  egress {
    description = "database, S3, VPC endpoints"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

# The catalog is reachable only by the nodes, the routers (the console's table section, read
# only) and the query engines' CIDRs: the load balancer has its own security group, the instances
# take traffic from it alone. Its rules stay inline: a separate aws_security_group_rule on this group
# would be removed again by the next apply.
resource "aws_security_group" "lb" {
  count       = local.floe
  name_prefix = "${var.name}-catalog-lb-"
  description = "Floe catalog load balancer: nodes and query engines"
  vpc_id      = var.vpc_id

  ingress {
    description     = "nodes: table loads and commits"
    from_port       = local.port
    to_port         = local.port
    protocol        = "tcp"
    security_groups = [var.node_security_group_id]
  }

  ingress {
    description     = "routers: the operator console reads the table health (metrics, columns), catalog:read"
    from_port       = local.port
    to_port         = local.port
    protocol        = "tcp"
    security_groups = [var.router_security_group_id]
  }

  dynamic "ingress" {
    for_each = length(var.client_cidrs) > 0 ? [1] : []
    content {
      description = "query engines (query_cidrs)"
      from_port   = local.port
      to_port     = local.port
      protocol    = "tcp"
      cidr_blocks = var.client_cidrs
    }
  }

  egress {
    description = "to the catalog service instances"
    from_port   = local.port
    to_port     = local.port
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_security_group" "db" {
  count       = local.floe
  name_prefix = "${var.name}-catalog-db-"
  description = "Catalog database: PostgreSQL from the catalog service only"
  vpc_id      = var.vpc_id

  ingress {
    description     = "PostgreSQL from the catalog service"
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.service[0].id]
  }
}

resource "aws_db_subnet_group" "db" {
  count       = local.floe
  name_prefix = "${var.name}-catalog-"
  subnet_ids  = var.subnet_ids
}

resource "aws_db_instance" "catalog" {
  count                               = local.floe
  identifier_prefix                   = "${var.name}-catalog-"
  engine                              = "postgres"
  engine_version                      = "16"
  instance_class                      = var.db_instance_class
  allocated_storage                   = 20
  max_allocated_storage               = 200
  storage_type                        = "gp3"
  storage_encrypted                   = true
  db_name                             = "floe"
  username                            = "floe_admin"
  manage_master_user_password         = true
  iam_database_authentication_enabled = true
  # a server certificate from the RSA 2048 G1 authority, which the release's rds-ca.pem holds
  ca_cert_identifier           = "rds-ca-rsa2048-g1"
  db_subnet_group_name         = aws_db_subnet_group.db[0].name
  vpc_security_group_ids       = [aws_security_group.db[0].id]
  publicly_accessible          = false
  multi_az                     = true
  backup_retention_period      = 7
  deletion_protection          = true
  skip_final_snapshot          = false
  final_snapshot_identifier    = "${var.name}-catalog-final"
  performance_insights_enabled = true
  auto_minor_version_upgrade   = true
}

module "bootstrap" {
  source           = "../bootstrap"
  cluster          = var.name
  role             = "catalog"
  region           = var.region
  parameters       = var.parameters
  metrics          = ["^floe_maintenance_lease_held$", "^floe_maintenance_table_metadata_bytes$", "^floe_maintenance_table_snapshots$", "^floe_maintenance_table_small_files$", "^floe_maintenance_table_data_files$"]
  log_group_prefix = "/floe/${var.name}"
}

resource "aws_instance" "service" {
  count                  = local.floe * var.instance_count
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_ids[count.index % length(var.subnet_ids)]
  vpc_security_group_ids = [aws_security_group.service[0].id]
  iam_instance_profile   = var.instance_profile
  # private subnets only; AWS is reached through VPC endpoints
  associate_public_ip_address = false
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
    ignore_changes = [ami, user_data, user_data_base64, subnet_id]
  }

  tags = { Name = "${var.name}-catalog-${count.index}", "floe:role" = "catalog" }

  depends_on = [aws_ssm_parameter.config, aws_ssm_parameter.db_setup, aws_ssm_parameter.secrets]
}

resource "aws_lb" "catalog" {
  count                            = local.floe
  name_prefix                      = "cat"
  load_balancer_type               = "network"
  internal                         = true
  subnets                          = var.subnet_ids
  security_groups                  = [aws_security_group.lb[0].id]
  enable_cross_zone_load_balancing = true
}

resource "aws_lb_target_group" "catalog" {
  count                = local.floe
  name_prefix          = "cat"
  port                 = local.port
  protocol             = "TCP"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  deregistration_delay = 30

  health_check {
    protocol            = "HTTP"
    path                = "/health/ready"
    port                = "traffic-port"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_target_group_attachment" "catalog" {
  count            = length(aws_instance.service)
  target_group_arn = aws_lb_target_group.catalog[0].arn
  target_id        = aws_instance.service[count.index].id
  port             = local.port
}

resource "aws_lb_listener" "catalog" {
  count             = local.floe
  load_balancer_arn = aws_lb.catalog[0].arn
  port              = local.port
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.catalog[0].arn
  }
}

resource "aws_ssm_parameter" "config" {
  count       = local.floe
  name        = "${var.parameters}/catalog/config"
  description = "Settings of Floe's catalog service (read at each start)"
  type        = "String"
  value = join("\n", [
    "service.port=${local.port}",
    "catalog.uri=jdbc:postgresql://${aws_db_instance.catalog[0].address}:${aws_db_instance.catalog[0].port}/floe?sslmode=verify-full&sslrootcert=/opt/floe/current/catalog/rds-ca.pem",
    "catalog.jdbc.user=${local.db_user}",
    # a fresh IAM token per connection (RdsIamAuthPlugin), never a password
    "catalog.jdbc.authenticationPluginClassName=io.floe.catalog.service.RdsIamAuthPlugin",
    "catalog.jdbc.awsRegion=${var.region}",
    "catalog.warehouse=${var.warehouse}",
    "catalog.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
    "catalog.client.region=${var.region}",
    # table maintenance runs in the service (one holder among the instances, by a lease in the table)
    "maintenance.enabled=true",
    # the CloudWatch agent scrapes /metrics locally, without a token
    "auth.metrics-open=true",
  ])
}

# floe-instance prepare logs in with the master secret and makes sure the service's own user
# exists with IAM authentication and the rights it needs, at every start
resource "aws_ssm_parameter" "db_setup" {
  count       = local.floe
  name        = "${var.parameters}/catalog/db-setup"
  description = "Database, service user and master secret floe-instance uses to create the service's database user"
  type        = "String"
  value = join("\n", [
    "host=${aws_db_instance.catalog[0].address}",
    "port=${aws_db_instance.catalog[0].port}",
    "database=floe",
    "user=${local.db_user}",
    "master_secret=${aws_db_instance.catalog[0].master_user_secret[0].secret_arn}",
  ])
}

resource "aws_ssm_parameter" "secrets" {
  count       = local.floe
  name        = "${var.parameters}/catalog/secrets"
  description = "Secrets Manager ARNs the catalog service reads into its environment at each start"
  type        = "String"
  value       = length(var.secret_lines) == 0 ? "none" : join("\n", var.secret_lines)
}

resource "aws_cloudwatch_log_group" "catalog" {
  count             = local.floe
  name              = "/floe/${var.name}/catalog"
  retention_in_days = var.log_retention
}

resource "aws_cloudwatch_metric_alarm" "unhealthy" {
  count               = local.floe
  alarm_name          = "${var.name}-catalog-unhealthy"
  alarm_description   = "A catalog service instance fails its health check behind the internal load balancer."
  namespace           = "AWS/NetworkELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = aws_lb.catalog[0].arn_suffix, TargetGroup = aws_lb_target_group.catalog[0].arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

# Table maintenance runs on the catalog instances; these watch that it does (namespace Floe,
# both instances publish under the same dimensions)
resource "aws_cloudwatch_metric_alarm" "maintenance" {
  for_each = local.floe == 1 ? {
    no-maintainer = {
      description = "no catalog instance has held the table's maintenance lease for 30 minutes (a crashed holder's lease expires after 15): snapshots, small files and orphans pile up."
      metric      = "floe_maintenance_lease_held", statistic = "Maximum", comparison = "LessThanThreshold", threshold = 1, missing = "breaching"
    }
    metadata-growing = {
      description = "the table's metadata file is over 16 MiB: snapshot expiry is not keeping up (every commit rewrites it)."
      metric      = "floe_maintenance_table_metadata_bytes", statistic = "Maximum", comparison = "GreaterThanThreshold", threshold = 16777216, missing = "notBreaching"
    }
  } : {}
  alarm_name          = "${var.name}-catalog-${each.key}"
  alarm_description   = "Table maintenance: ${each.value.description}"
  namespace           = "Floe"
  metric_name         = each.value.metric
  dimensions          = { ClusterName = var.name, Role = "catalog" }
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 6
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  treat_missing_data  = each.value.missing
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

resource "aws_glue_catalog_database" "floe" {
  count       = local.glue
  name        = "floe"
  description = "Floe's events table"
}

resource "aws_s3tables_table_bucket" "floe" {
  count = local.s3tables
  name  = "${var.name}-tables"
}

resource "aws_s3tables_namespace" "floe" {
  count            = local.s3tables
  namespace        = "floe"
  table_bucket_arn = aws_s3tables_table_bucket.floe[0].arn
}

output "uri" {
  description = "REST catalog URI of Floe's catalog service (its internal load balancer), or null."
  value       = local.floe == 1 ? "http://${aws_lb.catalog[0].dns_name}:${local.port}" : null
}

output "user_data" {
  description = "First-boot script of the catalog service instances."
  value       = module.bootstrap.user_data
}

output "target_group_arn" {
  description = "Target group of the catalog service instances, or null."
  value       = local.floe == 1 ? aws_lb_target_group.catalog[0].arn : null
}

output "instance_ids" {
  description = "Catalog service instances."
  value       = aws_instance.service[*].id
}

output "load_balancer_security_group_id" {
  description = "Security group of the catalog's load balancer (who may reach the catalog), or null."
  value       = local.floe == 1 ? aws_security_group.lb[0].id : null
}

output "load_balancer_ingress" {
  description = "Who may reach the catalog: node and router security groups and query CIDRs (for review), or null."
  value = local.floe == 1 ? {
    security_groups = flatten([for r in aws_security_group.lb[0].ingress : r.security_groups == null ? [] : tolist(r.security_groups)])
    cidr_blocks     = flatten([for r in aws_security_group.lb[0].ingress : r.cidr_blocks == null ? [] : tolist(r.cidr_blocks)])
  } : null
}

output "load_balancer_rules" {
  description = "The catalog load balancer's ingress rules (protocol, ports, security groups, CIDRs), or null."
  value = local.floe == 1 ? [for r in aws_security_group.lb[0].ingress : {
    protocol        = r.protocol
    from_port       = r.from_port
    to_port         = r.to_port
    security_groups = r.security_groups == null ? [] : sort(tolist(r.security_groups))
    cidr_blocks     = r.cidr_blocks == null ? [] : sort(tolist(r.cidr_blocks))
  }] : null
}

output "db_master_secret_arn" {
  description = "Secret holding the database master credentials (RDS-managed), or empty."
  value       = local.floe == 1 ? aws_db_instance.catalog[0].master_user_secret[0].secret_arn : ""
}

output "db_iam_resource" {
  description = "rds-db:connect resource of the service's database user, or empty."
  value       = local.floe == 1 ? "arn:aws:rds-db:${var.region}:*:dbuser:${aws_db_instance.catalog[0].resource_id}/${local.db_user}" : ""
}

output "s3tables_bucket_arn" {
  description = "S3 Tables table bucket ARN, or null."
  value       = local.s3tables == 1 ? aws_s3tables_table_bucket.floe[0].arn : null
}

output "config" {
  description = "The catalog service's settings (the config parameter's value), or null."
  value       = local.floe == 1 ? aws_ssm_parameter.config[0].value : null
}

output "maintenance_alarm_names" {
  description = "CloudWatch alarms on table maintenance (catalog_type = floe)."
  value       = [for a in aws_cloudwatch_metric_alarm.maintenance : a.alarm_name]
}
