# Least-privilege roles, one per kind of instance. Every role reads the release artifact, its own
# SSM parameters (<prefix>/<role>/*, <prefix>/artifact) and ships logs and metrics (CloudWatch
# agent); beyond that: nodes read/write only the warehouse prefix, use only the chosen catalog and
# read only their tokens; routers read only the ingestion token; only the catalog service reads the database
# master secret and connects to the database as its own user. Every instance is reached through
# SSM Session Manager; there is no SSH.

variable "name" {
  description = "Cluster name."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "account_id" {
  description = "AWS account id."
  type        = string
}

variable "bucket_arn" {
  description = "ARN of the table bucket."
  type        = string
}

variable "warehouse_prefix" {
  description = "Key prefix of the warehouse in the bucket."
  type        = string
}

variable "artifact_bucket" {
  description = "Bucket of the release tarball."
  type        = string
}

variable "artifact_key" {
  description = "Key of the release tarball."
  type        = string
}

variable "catalog_type" {
  description = "floe, glue or s3tables."
  type        = string
}

variable "glue_database" {
  description = "Glue database of the table (catalog_type = glue)."
  type        = string
}

variable "s3tables_bucket_arn" {
  description = "S3 Tables table bucket ARN (catalog_type = s3tables), else null."
  type        = string
}

variable "parameters" {
  description = "SSM parameter prefix of the cluster (/floe/<name>)."
  type        = string
}

variable "node_secret_arns" {
  description = "Secrets the nodes read (ingestion token, catalog token)."
  type        = list(string)
}

variable "router_secret_arns" {
  description = "Secrets the routers read (the ingestion token)."
  type        = list(string)
}

variable "catalog_secret_arns" {
  description = "Secrets the catalog service reads (its token, the database master secret)."
  type        = list(string)
}

variable "internal_tls" {
  description = "Nodes publish TLS certificates under <parameters>/node-certs/; routers and nodes read them."
  type        = bool
}

variable "catalog_db_resource" {
  description = "rds-db:connect resource of the catalog service's database user, or empty."
  type        = string
}

locals {
  roles = toset(["node", "router", "catalog"])
  assume = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "ec2.amazonaws.com" }, Action = "sts:AssumeRole" }]
  })
  artifact_read = {
    Effect   = "Allow"
    Action   = ["s3:GetObject"]
    Resource = ["arn:aws:s3:::${var.artifact_bucket}/${var.artifact_key}"]
  }
  secrets_read = {
    for role, arns in { node = var.node_secret_arns, router = var.router_secret_arns, catalog = var.catalog_secret_arns } :
    role => length(arns) == 0 ? [] : [{ Effect = "Allow", Action = ["secretsmanager:GetSecretValue"], Resource = arns }]
  }
  parameters_read = {
    for role in local.roles : role => [{
      Effect = "Allow"
      Action = ["ssm:GetParameter"]
      Resource = [
        "arn:aws:ssm:${var.region}:${var.account_id}:parameter${var.parameters}/artifact",
        "arn:aws:ssm:${var.region}:${var.account_id}:parameter${var.parameters}/${role}/*",
      ]
    }]
  }
  certificates = "arn:aws:ssm:${var.region}:${var.account_id}:parameter${var.parameters}/node-certs"
  # a node publishes its own certificate, and reads the others' (the hand-over to the committer is TLS)
  node_certificate = var.internal_tls ? [
    { Effect = "Allow", Action = ["ssm:PutParameter"], Resource = ["${local.certificates}/*"] },
    { Effect = "Allow", Action = ["ssm:GetParametersByPath"], Resource = [local.certificates] },
  ] : []
  router_certificates = var.internal_tls ? [{ Effect = "Allow", Action = ["ssm:GetParametersByPath"], Resource = [local.certificates] }] : []
  db_connect = var.catalog_db_resource == "" ? [] : [{
    Effect   = "Allow"
    Action   = ["rds-db:connect"]
    Resource = [var.catalog_db_resource]
  }]
  warehouse_rw = [
    {
      Effect    = "Allow"
      Action    = ["s3:ListBucket", "s3:GetBucketLocation"]
      Resource  = [var.bucket_arn]
      Condition = { StringLike = { "s3:prefix" = ["${var.warehouse_prefix}/*", var.warehouse_prefix] } }
    },
    {
      Effect   = "Allow"
      Action   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
      Resource = ["${var.bucket_arn}/${var.warehouse_prefix}/*"]
    },
    {
      Effect    = "Allow"
      Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
      Resource  = ["*"]
      Condition = { StringEquals = { "kms:ViaService" = "s3.${var.region}.amazonaws.com" } }
    },
  ]
  glue = var.catalog_type != "glue" ? [] : [{
    Effect = "Allow"
    Action = ["glue:GetDatabase", "glue:CreateDatabase", "glue:GetTable", "glue:GetTables", "glue:CreateTable", "glue:UpdateTable"]
    Resource = [
      "arn:aws:glue:${var.region}:${var.account_id}:catalog",
      "arn:aws:glue:${var.region}:${var.account_id}:database/${var.glue_database}",
      "arn:aws:glue:${var.region}:${var.account_id}:table/${var.glue_database}/*",
    ]
  }]
  s3tables = var.catalog_type != "s3tables" ? [] : [{
    Effect = "Allow"
    # what the S3 Tables Iceberg REST endpoint needs to create, read and append to the table
    Action = [
      "s3tables:GetTableBucket", "s3tables:GetNamespace", "s3tables:ListNamespaces",
      "s3tables:GetTable", "s3tables:ListTables", "s3tables:CreateTable",
      "s3tables:GetTableMetadataLocation", "s3tables:UpdateTableMetadataLocation",
      "s3tables:GetTableData", "s3tables:PutTableData",
    ]
    Resource = [var.s3tables_bucket_arn, "${var.s3tables_bucket_arn}/*"]
  }]
  policies = {
    node = concat([for st in local.warehouse_rw : st if var.catalog_type != "s3tables"], local.glue, local.s3tables,
    [local.artifact_read], local.parameters_read["node"], local.secrets_read["node"], local.node_certificate)
    router = concat([local.artifact_read], local.parameters_read["router"], local.secrets_read["router"], local.router_certificates)
    catalog = concat([for st in local.warehouse_rw : st if var.catalog_type == "floe"], [local.artifact_read],
    local.parameters_read["catalog"], local.secrets_read["catalog"], local.db_connect)
  }
}

resource "aws_iam_role" "this" {
  for_each           = local.roles
  name_prefix        = "${var.name}-${each.key}-"
  assume_role_policy = local.assume
}

resource "aws_iam_role_policy" "this" {
  for_each = local.roles
  role     = aws_iam_role.this[each.key].id
  policy   = jsonencode({ Version = "2012-10-17", Statement = local.policies[each.key] })
}

resource "aws_iam_role_policy_attachment" "ssm" {
  for_each   = local.roles
  role       = aws_iam_role.this[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy_attachment" "cloudwatch_agent" {
  for_each   = local.roles
  role       = aws_iam_role.this[each.key].name
  policy_arn = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
}

resource "aws_iam_instance_profile" "this" {
  for_each    = local.roles
  name_prefix = "${var.name}-${each.key}-"
  role        = aws_iam_role.this[each.key].name
}

output "policies" {
  description = "The inline policy of each role (JSON), for review."
  value       = { for role in local.roles : role => aws_iam_role_policy.this[role].policy }
}

output "node_instance_profile" {
  description = "Instance profile of the nodes."
  value       = aws_iam_instance_profile.this["node"].name
}

output "router_instance_profile" {
  description = "Instance profile of the routers."
  value       = aws_iam_instance_profile.this["router"].name
}

output "catalog_instance_profile" {
  description = "Instance profile of the catalog service."
  value       = aws_iam_instance_profile.this["catalog"].name
}
