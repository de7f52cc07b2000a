# Tokens the cluster requires by default, generated here (random, 48 characters) and kept in
# Secrets Manager: instances read them at each service start and they never appear in user data
# or SSM parameters. Rotate one with `aws secretsmanager put-secret-value` and a rolling update;
# Terraform ignores the value after creation, so a rotation is never undone by an apply.

variable "name" {
  description = "Cluster name."
  type        = string
}

variable "catalog_type" {
  description = "floe, glue or s3tables: only Floe's catalog service has a token of its own."
  type        = string
}

locals {
  tokens = merge(
    { ingest = "Bearer token producers send to the load balancer (Authorization: Bearer ...)" },
    var.catalog_type == "floe" ? { catalog = "Bearer token of Floe's catalog service (nodes, Spark, Trino)" } : {},
  )
}

data "aws_secretsmanager_random_password" "token" {
  for_each            = local.tokens
  password_length     = 48
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "token" {
  for_each                = local.tokens
  name_prefix             = "${var.name}-${each.key}-token-"
  description             = each.value
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "token" {
  for_each      = local.tokens
  secret_id     = aws_secretsmanager_secret.token[each.key].id
  secret_string = data.aws_secretsmanager_random_password.token[each.key].random_password

  lifecycle {
    # generated once; rotations are made in Secrets Manager and must survive later applies
    ignore_changes = [secret_string]
  }
}

output "node_secret_env" {
  description = "Environment variable -> secret ARN, for the nodes."
  value = merge(
    { FLOE_HTTP_AUTH_TOKEN = aws_secretsmanager_secret.token["ingest"].arn },
    var.catalog_type == "floe" ? { FLOE_CATALOG_TOKEN = aws_secretsmanager_secret.token["catalog"].arn } : {},
  )
}

output "router_secret_env" {
  description = "Environment variable -> secret ARN, for the routers (they authenticate producers)."
  value       = { FLOE_ROUTER_AUTH_TOKEN = aws_secretsmanager_secret.token["ingest"].arn }
}

output "router_secret_arns" {
  description = "Secrets the routers read: the ingestion token only."
  value       = [aws_secretsmanager_secret.token["ingest"].arn]
}

output "catalog_secret_env" {
  description = "Environment variable -> secret ARN, for the catalog service."
  value       = var.catalog_type == "floe" ? { FLOE_SERVICE_AUTH_TOKEN = aws_secretsmanager_secret.token["catalog"].arn } : {}
}

output "node_secret_arns" {
  description = "Secrets the nodes read."
  value       = [for k in sort(keys(local.tokens)) : aws_secretsmanager_secret.token[k].arn]
}

output "catalog_secret_arns" {
  description = "Secrets the catalog service reads."
  value       = var.catalog_type == "floe" ? [aws_secretsmanager_secret.token["catalog"].arn] : []
}

output "ingest_token_secret_arn" {
  description = "Secret holding the ingestion token."
  value       = aws_secretsmanager_secret.token["ingest"].arn
}

output "catalog_token_secret_arn" {
  description = "Secret holding the catalog service's token, or null."
  value       = var.catalog_type == "floe" ? aws_secretsmanager_secret.token["catalog"].arn : null
}
