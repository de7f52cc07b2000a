data "aws_caller_identity" "current" {}

# The latest Amazon Linux 2023 is only the default of ami_id: instances ignore AMI changes after
# creation, so a new AMI released by AWS never replaces the fleet on a routine apply.
data "aws_ssm_parameter" "al2023" {
  count = var.ami_id == null ? 1 : 0
  name  = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  ami_id      = var.ami_id != null ? var.ami_id : data.aws_ssm_parameter.al2023[0].insecure_value
  bucket      = coalesce(var.bucket_name, "${var.name}-${data.aws_caller_identity.current.account_id}-${var.region}")
  warehouse   = "s3://${local.bucket}/warehouse"
  artifact    = regex("^s3://([^/]+)/(.+)$", var.artifact_s3_uri)
  parameters  = "/floe/${var.name}"
  s3tables    = "https://s3tables.${var.region}.amazonaws.com/iceberg"
  catalog_uri = var.catalog_type == "floe" ? module.catalog.uri : (var.catalog_type == "s3tables" ? local.s3tables : null)

  # standard Iceberg catalog properties, as nodes read them (catalog.<property>)
  node_catalog_properties = {
    floe = {
      "type" = "rest"
      "uri"  = module.catalog.uri
    }
    glue = {
      "type"          = "glue"
      "warehouse"     = local.warehouse
      "io-impl"       = "org.apache.iceberg.aws.s3.S3FileIO"
      "client.region" = var.region
    }
    s3tables = {
      "type"                = "rest"
      "uri"                 = local.s3tables
      "warehouse"           = module.catalog.s3tables_bucket_arn
      "rest.sigv4-enabled"  = "true"
      "rest.signing-name"   = "s3tables"
      "rest.signing-region" = var.region
    }
  }
}

module "network" {
  source               = "./modules/network"
  name                 = var.name
  vpc_id               = var.vpc_id
  subnet_ids           = var.subnet_ids
  public_subnet_ids    = var.public_subnet_ids
  vpc_cidr             = var.vpc_cidr
  az_count             = var.az_count
  public_load_balancer = var.public_load_balancer
  create_endpoints     = var.create_vpc_endpoints
  catalog_type         = var.catalog_type
}

module "storage" {
  source        = "./modules/storage"
  bucket        = local.bucket
  force_destroy = var.force_destroy_bucket
}

module "secrets" {
  source       = "./modules/secrets"
  name         = var.name
  catalog_type = var.catalog_type
  node_count   = var.node_count
  producers    = var.producers
  commit_mode  = var.commit_mode
}

# Every instance reads its release from here at each service start: a new artifact_s3_uri changes
# this parameter only, and scripts/rolling-update restarts the services node by node to pick it up.
resource "aws_ssm_parameter" "artifact" {
  name        = "${local.parameters}/artifact"
  description = "Floe release tarball every instance runs (read at service start)"
  type        = "String"
  value       = var.artifact_s3_uri
}

module "iam" {
  source              = "./modules/iam"
  name                = var.name
  region              = var.region
  account_id          = data.aws_caller_identity.current.account_id
  bucket_arn          = module.storage.bucket_arn
  warehouse_prefix    = "warehouse"
  artifact_bucket     = local.artifact[0]
  artifact_key        = local.artifact[1]
  parameters          = local.parameters
  catalog_type        = var.catalog_type
  glue_database       = "floe"
  s3tables_bucket_arn = module.catalog.s3tables_bucket_arn
  node_secret_arns    = module.secrets.node_secret_arns
  router_secret_arns  = module.secrets.router_secret_arns
  catalog_secret_arns = concat(module.secrets.catalog_secret_arns, compact([module.catalog.db_master_secret_arn]))
  catalog_db_resource = module.catalog.db_iam_resource
  internal_tls        = var.internal_tls
}

module "catalog" {
  source                 = "./modules/catalog"
  ami_id                 = local.ami_id
  name                   = var.name
  region                 = var.region
  catalog_type           = var.catalog_type
  vpc_id                 = module.network.vpc_id
  subnet_ids             = module.network.subnet_ids
  instance_count         = var.catalog_count
  instance_type          = var.catalog_instance_type
  db_instance_class      = var.catalog_db_instance_class
  instance_profile       = module.iam.catalog_instance_profile
  warehouse              = local.warehouse
  parameters             = local.parameters
  client_cidrs           = var.query_cidrs
  node_security_group_id = module.nodes.security_group_id
  # the console's table section (router.catalog-uri)
  router_security_group_id = module.routers.security_group_id
  secret_lines             = module.secrets.catalog_secret_lines
  alarm_actions            = compact([var.alarm_topic_arn])
  log_retention            = var.log_retention_days
}

module "nodes" {
  source                  = "./modules/nodes"
  ami_id                  = local.ami_id
  name                    = var.name
  region                  = var.region
  node_count              = var.node_count
  instance_type           = var.node_instance_type
  subnet_by_zone          = module.network.subnet_by_zone
  vpc_id                  = module.network.vpc_id
  vpc_cidr                = module.network.vpc_cidr
  instance_profile        = module.iam.node_instance_profile
  volume_size_gib         = var.node_volume_size_gib
  volume_iops             = var.node_volume_iops
  volume_throughput_mibps = var.node_volume_throughput_mibps
  durability              = var.durability
  catalog_properties      = local.node_catalog_properties[var.catalog_type]
  table_target_file_bytes = var.target_file_size_mib * 1048576
  flush_max_age_seconds   = var.flush_max_age_seconds
  commit_mode             = var.commit_mode
  parameters              = local.parameters
  secret_lines            = module.secrets.node_secret_lines
  internal_tls            = var.internal_tls
  alarm_actions           = compact([var.alarm_topic_arn])
  log_retention           = var.log_retention_days
}

module "routers" {
  source           = "./modules/routers"
  ami_id           = local.ami_id
  name             = var.name
  region           = var.region
  router_count     = var.router_count
  instance_type    = var.router_instance_type
  subnet_ids       = module.network.subnet_ids
  vpc_id           = module.network.vpc_id
  vpc_cidr         = module.network.vpc_cidr
  instance_profile = module.iam.router_instance_profile
  node_addresses   = module.nodes.addresses
  ingest_cidrs     = var.ingest_cidrs
  secret_lines     = module.secrets.router_secret_lines
  internal_tls     = var.internal_tls
  # the console's table section reads Floe's catalog service through its internal load balancer,
  # as the nodes do (catalog_type = floe; null otherwise)
  catalog_uri   = module.catalog.uri
  parameters    = local.parameters
  log_retention = var.log_retention_days
}

# the operator's view in CloudWatch: the panels of docs/grafana-floe.json
module "dashboard" {
  source = "./modules/dashboard"
  name   = var.name
  region = var.region
}

module "load_balancer" {
  source              = "./modules/load_balancer"
  name                = var.name
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.load_balancer_subnet_ids
  internal            = !var.public_load_balancer
  router_instance_ids = module.routers.instance_ids
  router_port         = module.routers.port
  tls_certificate_arn = var.tls_certificate_arn
  alarm_actions       = compact([var.alarm_topic_arn])
}

resource "aws_security_group_rule" "routers_to_nodes" {
  type                     = "ingress"
  description              = "routers forward ingestion requests to nodes"
  security_group_id        = module.nodes.security_group_id
  source_security_group_id = module.routers.security_group_id
  from_port                = 8081
  to_port                  = 8081
  protocol                 = "tcp"
}
