# The catalog the table lives in, chosen by catalog_type:
#   floe     - Floe's Iceberg REST catalog service on EC2, over RDS PostgreSQL
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

variable "artifact_s3_uri" {
  description = "Release tarball."
  type        = string
}

variable "client_cidrs" {
  description = "CIDRs allowed to call the catalog service (nodes, Spark, Trino)."
  type        = list(string)
}

variable "ssh_cidrs" {
  description = "CIDRs allowed to SSH; empty for none."
  type        = list(string)
}

locals {
  floe     = var.catalog_type == "floe" ? 1 : 0
  glue     = var.catalog_type == "glue" ? 1 : 0
  s3tables = var.catalog_type == "s3tables" ? 1 : 0
}

resource "aws_security_group" "service" {
  count       = local.floe
  name_prefix = "${var.name}-catalog-"
  description = "Floe catalog service: Iceberg REST API"
  vpc_id      = var.vpc_id

  ingress {
    description = "Iceberg REST catalog API"
    from_port   = 8181
    to_port     = 8181
    protocol    = "tcp"
    cidr_blocks = var.client_cidrs
  }

  dynamic "ingress" {
    for_each = length(var.ssh_cidrs) > 0 ? [1] : []
    content {
      description = "SSH (only when ssh_cidrs is set; SSM is the default)"
      from_port   = 22
      to_port     = 22
      protocol    = "tcp"
      cidr_blocks = var.ssh_cidrs
    }
  }

  egress {
    description = "database, S3, package repositories, SSM"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
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
  count      = local.floe
  name_prefix = "${var.name}-catalog-"
  subnet_ids = var.subnet_ids
}

resource "aws_db_instance" "catalog" {
  count                           = local.floe
  identifier_prefix               = "${var.name}-catalog-"
  engine                          = "postgres"
  engine_version                  = "16"
  instance_class                  = var.db_instance_class
  allocated_storage               = 20
  storage_type                    = "gp3"
  storage_encrypted               = true
  db_name                         = "floe"
  username                        = "floe"
  manage_master_user_password     = true
  db_subnet_group_name            = aws_db_subnet_group.db[0].name
  vpc_security_group_ids          = [aws_security_group.db[0].id]
  publicly_accessible             = false
  multi_az                        = true
  backup_retention_period         = 7
  deletion_protection             = true
  skip_final_snapshot             = false
  final_snapshot_identifier       = "${var.name}-catalog-final"
  performance_insights_enabled    = true
}

resource "aws_instance" "service" {
  count                  = local.floe
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_ids[0]
  vpc_security_group_ids = [aws_security_group.service[0].id]
  iam_instance_profile   = var.instance_profile

  metadata_options {
    http_tokens   = "required"
    http_endpoint = "enabled"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 20
    encrypted   = true
  }

  user_data_replace_on_change = true
  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    region          = var.region
    artifact_s3_uri = var.artifact_s3_uri
    db_endpoint     = aws_db_instance.catalog[0].endpoint
    db_secret_arn   = aws_db_instance.catalog[0].master_user_secret[0].secret_arn
    warehouse       = var.warehouse
  })

  tags = { Name = "${var.name}-catalog" }
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
  description = "REST catalog URI of Floe's catalog service, or null."
  value       = local.floe == 1 ? "http://${aws_instance.service[0].private_ip}:8181" : null
}

output "db_secret_arn" {
  description = "Secret holding the catalog database credentials, or empty."
  value       = local.floe == 1 ? aws_db_instance.catalog[0].master_user_secret[0].secret_arn : ""
}

output "s3tables_bucket_arn" {
  description = "S3 Tables table bucket ARN, or null."
  value       = local.s3tables == 1 ? aws_s3tables_table_bucket.floe[0].arn : null
}
