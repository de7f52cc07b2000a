data "aws_caller_identity" "current" {}

# one AMI for every instance: the latest Amazon Linux 2023
data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

locals {
  bucket      = coalesce(var.bucket_name, "${var.name}-${data.aws_caller_identity.current.account_id}-${var.region}")
  warehouse   = "s3://${local.bucket}/warehouse"
  artifact    = regex("^s3://([^/]+)/(.+)$", var.artifact_s3_uri)
  catalog_uri = var.catalog_type == "floe" ? module.catalog.uri : (var.catalog_type == "s3tables" ? "https://s3tables.${var.region}.amazonaws.com/iceberg" : null)

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
      "type"               = "rest"
      "uri"                = "https://s3tables.${var.region}.amazonaws.com/iceberg"
      "warehouse"          = module.catalog.s3tables_bucket_arn
      "rest.sigv4-enabled" = "true"
      "rest.signing-name"  = "s3tables"
      "rest.signing-region" = var.region
    }
  }
}

module "network" {
  source     = "./modules/network"
  name       = var.name
  vpc_id     = var.vpc_id
  subnet_ids = var.subnet_ids
  vpc_cidr   = var.vpc_cidr
  az_count   = var.az_count
}

module "storage" {
  source        = "./modules/storage"
  bucket        = local.bucket
  force_destroy = var.force_destroy_bucket
}

resource "aws_secretsmanager_secret" "ingest_token" {
  count                   = var.ingest_token == null ? 0 : 1
  name_prefix             = "${var.name}-ingest-token-"
  description             = "Bearer token Floe producers send (Authorization: Bearer ...)"
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "ingest_token" {
  count         = var.ingest_token == null ? 0 : 1
  secret_id     = aws_secretsmanager_secret.ingest_token[0].id
  secret_string = var.ingest_token
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
  catalog_type        = var.catalog_type
  glue_database       = "floe"
  s3tables_bucket_arn = module.catalog.s3tables_bucket_arn
  secret_arns = compact([
    var.ingest_token == null ? "" : aws_secretsmanager_secret.ingest_token[0].arn,
    module.catalog.db_secret_arn,
  ])
}

module "catalog" {
  source           = "./modules/catalog"
  ami_id           = data.aws_ssm_parameter.al2023.value
  name             = var.name
  region           = var.region
  catalog_type     = var.catalog_type
  vpc_id           = module.network.vpc_id
  subnet_ids       = module.network.subnet_ids
  instance_type    = var.catalog_instance_type
  db_instance_class = var.catalog_db_instance_class
  instance_profile = module.iam.catalog_instance_profile
  warehouse        = local.warehouse
  artifact_s3_uri  = var.artifact_s3_uri
  client_cidrs     = concat(var.query_cidrs, [module.network.vpc_cidr])
  ssh_cidrs        = var.ssh_cidrs
}

module "nodes" {
  source                  = "./modules/nodes"
  ami_id                  = data.aws_ssm_parameter.al2023.value
  name                    = var.name
  region                  = var.region
  node_count              = var.node_count
  instance_type           = var.node_instance_type
  subnet_ids              = module.network.subnet_ids
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
  artifact_s3_uri         = var.artifact_s3_uri
  ingest_token_secret_arn = var.ingest_token == null ? "" : aws_secretsmanager_secret.ingest_token[0].arn
  ssh_cidrs               = var.ssh_cidrs
}

module "routers" {
  source                  = "./modules/routers"
  ami_id                  = data.aws_ssm_parameter.al2023.value
  name                    = var.name
  region                  = var.region
  router_count            = var.router_count
  instance_type           = var.router_instance_type
  subnet_ids              = module.network.subnet_ids
  vpc_id                  = module.network.vpc_id
  vpc_cidr                = module.network.vpc_cidr
  instance_profile        = module.iam.router_instance_profile
  node_addresses          = module.nodes.addresses
  ingest_cidrs            = var.ingest_cidrs
  artifact_s3_uri         = var.artifact_s3_uri
  ssh_cidrs               = var.ssh_cidrs
}

module "load_balancer" {
  source              = "./modules/load_balancer"
  name                = var.name
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.subnet_ids
  router_instance_ids = module.routers.instance_ids
  router_port         = module.routers.port
  tls_certificate_arn = var.tls_certificate_arn
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
