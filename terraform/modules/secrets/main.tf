# Tokens the cluster requires, generated here (random, 48 characters) and kept in Secrets
# Manager: one per producer (scoped to streams, with optional quotas), one for operators, one the
# routers present to the nodes, and for Floe's catalog service one per node for its commits (bound
# to the node's partition: `partition=N` in the catalog's token file), one for query engines and
# one the routers read the table's health with for the console (catalog:read). Instances never see
# them in user data or SSM parameters: the `secrets`
# parameter of each role names the secrets, and floe-instance writes the role's token file with
# their SHA-256 hashes only (re-read every 5 minutes, so a rotation in Secrets Manager needs no
# restart and the previous value stays accepted until the next one). Terraform ignores a value
# after creation, so a rotation is never undone by an apply.

variable "name" {
  description = "Cluster name."
  type        = string
}

variable "catalog_type" {
  description = "floe, glue or s3tables: only Floe's catalog service has tokens of its own."
  type        = string
}

variable "node_count" {
  description = "Nodes: node i owns partition i and gets a catalog token for that partition only."
  type        = number
}

variable "producers" {
  description = "Producer tokens: name -> streams it may write (patterns with *, empty = all) and optional quotas."
  type = map(object({
    streams           = optional(list(string), [])
    events_per_second = optional(number)
    bytes_per_second  = optional(string)
  }))
}

variable "commit_mode" {
  description = "direct or coordinated: coordinated nodes get a `cluster` token for each other's hand-over route, and catalog tokens not bound to a partition (the committer role commits every partition)."
  type        = string
  default     = "direct"
}

locals {
  floe_catalog = var.catalog_type == "floe"
  coordinated  = var.commit_mode == "coordinated"
  producer_scopes = {
    for name, p in var.producers : name => length(p.streams) == 0 ? "ingest" : join(",", [for s in p.streams : "ingest:${s}"])
  }
  producer_quotas = {
    for name, p in var.producers : name => join(" ", compact([
      p.events_per_second == null ? "" : "events-per-second=${p.events_per_second}",
      p.bytes_per_second == null ? "" : "bytes-per-second=${p.bytes_per_second}",
    ]))
  }
  tokens = merge(
    { for name, _ in var.producers : "producer-${name}" => "Bearer token of the producer ${name} (Authorization: Bearer ... to the load balancer)" },
    {
      operator = "Bearer token of operators: status, metrics, flush on nodes and routers; admin of the catalog"
      router   = "Bearer token the routers present to the nodes"
    },
    local.coordinated ? { cluster = "Bearer token nodes present to each other's hand-over route (commit.mode=coordinated)" } : {},
    local.floe_catalog ? merge(
      { for i in range(var.node_count) : "catalog-commit-${i}" => "Bearer token the node of partition ${i} presents to Floe's catalog service (catalog:commit, partition ${i} only)" },
      { catalog-read = "Bearer token of query engines (Spark, Trino) for Floe's catalog service (catalog:read)" },
      { router-catalog = "Bearer token the routers present to Floe's catalog service for the console's table section (catalog:read)" },
    ) : {},
  )
  arn = { for k, _ in local.tokens : k => aws_secretsmanager_secret.token[k].arn }

  # what each role reads: environment variables (name -> token), those of one partition's instance
  # only (partition -> name -> token), and its token file's entries
  operator = { name = "operator", scopes = "read,admin", token = "operator", quotas = "" }
  roles = {
    node = {
      env = local.coordinated ? { FLOE_COMMIT_CLUSTER_TOKEN = "cluster" } : {}
      partition_env = local.floe_catalog ? {
        for i in range(var.node_count) : tostring(i) => { FLOE_CATALOG_TOKEN = "catalog-commit-${i}" }
      } : {}
      tokens = concat([{ name = "routers", scopes = "router", token = "router", quotas = "" }, local.operator],
      local.coordinated ? [{ name = "nodes", scopes = "cluster", token = "cluster", quotas = "" }] : [])
    }
    router = {
      # router.catalog-token: the console reads the table's health from Floe's catalog service
      env           = merge({ FLOE_ROUTER_NODE_TOKEN = "router" }, local.floe_catalog ? { FLOE_ROUTER_CATALOG_TOKEN = "router-catalog" } : {})
      partition_env = {}
      tokens = concat([local.operator], [for name in sort(keys(var.producers)) :
      { name = name, scopes = local.producer_scopes[name], token = "producer-${name}", quotas = local.producer_quotas[name] }])
    }
    catalog = {
      env           = {}
      partition_env = {}
      tokens = local.floe_catalog ? concat(
        # bound to the node's partition, unless any node may hold the committer role
        [for i in range(var.node_count) : { name = "node-${i}", scopes = "catalog:commit", token = "catalog-commit-${i}", quotas = local.coordinated ? "" : "partition=${i}" }],
        [
          { name = "query-engines", scopes = "catalog:read", token = "catalog-read", quotas = "" },
          { name = "routers", scopes = "catalog:read", token = "router-catalog", quotas = "" },
          merge(local.operator, { scopes = "admin" }),
      ]) : []
    }
  }
  # the role's secrets parameter: `FLOE_X=ARN` lines become its environment, `partition N FLOE_X=ARN`
  # lines that of partition N's instance only, `token NAME SCOPES ARN [QUOTAS]` lines its token file
  # (floe-instance)
  lines = { for role, r in local.roles : role => concat(
    [for k in sort(keys(r.env)) : "${k}=${local.arn[r.env[k]]}"],
    flatten([for p in sort(keys(r.partition_env)) : [
      for k in sort(keys(r.partition_env[p])) : "partition ${p} ${k}=${local.arn[r.partition_env[p][k]]}"
    ]]),
    [for t in r.tokens : trimspace("token ${t.name} ${t.scopes} ${local.arn[t.token]} ${t.quotas}")],
  ) }
  secret_arns = { for role, r in local.roles : role => distinct(concat(
    [for k in sort(keys(r.env)) : local.arn[r.env[k]]],
    flatten([for p in sort(keys(r.partition_env)) : [for k in sort(keys(r.partition_env[p])) : local.arn[r.partition_env[p][k]]]]),
    [for t in r.tokens : local.arn[t.token]],
  )) }
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

output "node_secret_lines" {
  description = "The nodes' secrets parameter: each node's catalog token (by partition) and their token file (routers, operator)."
  value       = local.lines.node
}

output "router_secret_lines" {
  description = "The routers' secrets parameter: the tokens they present to nodes and to Floe's catalog service, and their token file (producers, operator)."
  value       = local.lines.router
}

output "catalog_secret_lines" {
  description = "The catalog service's secrets parameter: its token file (each node, bound to its partition; query engines; routers; operator)."
  value       = local.lines.catalog
}

output "node_secret_arns" {
  description = "Secrets the nodes read."
  value       = local.secret_arns.node
}

output "router_secret_arns" {
  description = "Secrets the routers read."
  value       = local.secret_arns.router
}

output "catalog_secret_arns" {
  description = "Secrets the catalog service reads."
  value       = local.secret_arns.catalog
}

output "producer_token_secret_arns" {
  description = "Producer name -> secret holding its token."
  value       = { for name, _ in var.producers : name => local.arn["producer-${name}"] }
}

output "operator_token_secret_arn" {
  description = "Secret holding the operators' token."
  value       = local.arn.operator
}

output "catalog_read_token_secret_arn" {
  description = "Secret holding the query engines' catalog:read token, or null."
  value       = local.floe_catalog ? local.arn["catalog-read"] : null
}

output "router_catalog_token_secret_arn" {
  description = "Secret holding the token the routers read Floe's catalog service with (catalog:read, for the console), or null."
  value       = local.floe_catalog ? local.arn["router-catalog"] : null
}
