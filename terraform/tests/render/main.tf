# Renders the first-boot script of each role, for shellcheck (tests/terraform-test.sh): the same
# bootstrap module the cluster uses, with representative inputs. No provider, no resources.

module "node" {
  source              = "../../modules/bootstrap"
  cluster             = "floe"
  role                = "node"
  region              = "us-east-1"
  parameters          = "/floe/floe"
  instance_properties = { "node.partition-id" = "7" }
  ebs_volume_id       = "vol-0123456789abcdef0"
  metrics             = ["^floe_flush_lag_seconds$"]
  partition           = "7"
  log_group_prefix    = "/floe/floe"
}

module "router" {
  source           = "../../modules/bootstrap"
  cluster          = "floe"
  role             = "router"
  region           = "us-east-1"
  parameters       = "/floe/floe"
  metrics          = ["^floe_router_healthy_nodes$"]
  metrics_port     = 9080
  log_group_prefix = "/floe/floe"
}

module "catalog" {
  source           = "../../modules/bootstrap"
  cluster          = "floe"
  role             = "catalog"
  region           = "us-east-1"
  parameters       = "/floe/floe"
  log_group_prefix = "/floe/floe"
}

output "node" {
  description = "Node user data."
  value       = module.node.user_data
}

output "router" {
  description = "Router user data."
  value       = module.router.user_data
}

output "catalog" {
  description = "Catalog service user data."
  value       = module.catalog.user_data
}
