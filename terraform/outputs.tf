output "ingestion_url" {
  description = "Where producers POST events: <url>/v1/streams/{stream}/events."
  value       = module.load_balancer.url
}

output "producer_token_secret_arns" {
  description = "Producer name -> Secrets Manager secret holding its token: aws secretsmanager get-secret-value --secret-id <arn> --query SecretString --output text."
  value       = module.secrets.producer_token_secret_arns
}

output "operator_token_secret_arn" {
  description = "Secret holding the operators' token (status, metrics and flush on nodes and routers; admin of Floe's catalog)."
  value       = module.secrets.operator_token_secret_arn
}

output "catalog_read_token_secret_arn" {
  description = "Secret holding the query engines' catalog:read token (catalog_type = floe; Spark and Trino send it), or null."
  value       = module.secrets.catalog_read_token_secret_arn
}

output "catalog_uri" {
  description = "Iceberg catalog endpoint (REST URI for floe and s3tables; null for glue, which needs none)."
  value       = local.catalog_uri
}

output "bucket" {
  description = "S3 bucket holding the table's data and metadata."
  value       = module.storage.bucket
}

output "node_addresses" {
  description = "Private host:port of each node; the index is the node's partition id."
  value       = module.nodes.addresses
}

output "nodes" {
  description = "Each partition: instance id and type, zone, subnet, address, network interface, gp3 volume (id, IOPS, throughput)."
  value       = module.nodes.nodes
}

output "node_instance_ids" {
  description = "Node instances in partition order: aws ssm start-session --target <id>; scripts/rolling-update uses them."
  value       = module.nodes.instance_ids
}

output "node_zones" {
  description = "Availability zone of each partition (its volume's zone, fixed at creation)."
  value       = module.nodes.zones
}

output "node_volume_ids" {
  description = "Data volume of each partition."
  value       = module.nodes.volume_ids
}

output "node_volume" {
  description = "Provisioned gp3 IOPS and throughput (MiB/s) of every data volume."
  value       = { iops = module.nodes.volume_iops, throughput_mibps = module.nodes.volume_throughput_mibps }
}

output "router_instance_ids" {
  description = "Router instances (SSM sessions, scripts/rolling-update)."
  value       = module.routers.instance_ids
}

output "catalog_instance_ids" {
  description = "Catalog service instances (catalog_type = floe)."
  value       = module.catalog.instance_ids
}

output "load_balancer_ports" {
  description = "Ports the ingestion load balancer listens on (443 only when a certificate was given)."
  value       = module.load_balancer.listener_ports
}

output "interface_endpoints" {
  description = "Interface VPC endpoints created for the instances."
  value       = module.network.interface_endpoints
}

output "operations" {
  description = "What scripts/rolling-update and scripts/scale-down need: region, parameter prefix, instances."
  value = {
    region               = var.region
    parameters           = local.parameters
    node_instance_ids    = module.nodes.instance_ids
    node_addresses       = module.nodes.addresses
    router_instance_ids  = module.routers.instance_ids
    router_target_group  = module.load_balancer.target_group_arn
    catalog_instance_ids = module.catalog.instance_ids
    catalog_target_group = module.catalog.target_group_arn
  }
}

output "spark_settings" {
  description = "Ready-to-paste spark-sql/spark-submit options for the table (catalog name floe; table floe.floe.events)."
  value = join(" ", var.catalog_type == "glue" ? [
    "--conf spark.sql.catalog.floe=org.apache.iceberg.spark.SparkCatalog",
    "--conf spark.sql.catalog.floe.type=glue",
    "--conf spark.sql.catalog.floe.warehouse=${local.warehouse}",
    "--conf spark.sql.catalog.floe.io-impl=org.apache.iceberg.aws.s3.S3FileIO",
    ] : var.catalog_type == "s3tables" ? [
    "--conf spark.sql.catalog.floe=org.apache.iceberg.spark.SparkCatalog",
    "--conf spark.sql.catalog.floe.type=rest",
    "--conf spark.sql.catalog.floe.uri=${local.catalog_uri}",
    "--conf spark.sql.catalog.floe.warehouse=${module.catalog.s3tables_bucket_arn}",
    "--conf spark.sql.catalog.floe.rest.sigv4-enabled=true",
    "--conf spark.sql.catalog.floe.rest.signing-name=s3tables",
    "--conf spark.sql.catalog.floe.rest.signing-region=${var.region}",
    ] : [
    "--conf spark.sql.catalog.floe=org.apache.iceberg.spark.SparkCatalog",
    "--conf spark.sql.catalog.floe.type=rest",
    "--conf spark.sql.catalog.floe.uri=${local.catalog_uri}",
    "--conf spark.sql.catalog.floe.token=$(aws secretsmanager get-secret-value --region ${var.region} --secret-id ${coalesce(module.secrets.catalog_read_token_secret_arn, "-")} --query SecretString --output text)",
  ])
}

output "trino_settings" {
  description = "Ready-to-paste Trino catalog file (etc/catalog/floe.properties)."
  value = join("\n", concat(
    ["connector.name=iceberg", "fs.native-s3.enabled=true", "s3.region=${var.region}"],
    var.catalog_type == "glue" ? ["iceberg.catalog.type=glue", "hive.metastore.glue.region=${var.region}"] :
    var.catalog_type == "s3tables" ? [
      "iceberg.catalog.type=rest",
      "iceberg.rest-catalog.uri=${local.catalog_uri}",
      "iceberg.rest-catalog.warehouse=${module.catalog.s3tables_bucket_arn}",
      "iceberg.rest-catalog.security=SIGV4",
      "iceberg.rest-catalog.signing-name=s3tables",
      ] : ["iceberg.catalog.type=rest", "iceberg.rest-catalog.uri=${local.catalog_uri}", "iceberg.rest-catalog.security=OAUTH2",
    "iceberg.rest-catalog.oauth2.token=<the value of catalog_read_token_secret_arn>"]
  ))
}

output "dashboard_name" {
  description = "The CloudWatch dashboard of the cluster (the panels of docs/grafana-floe.json)."
  value       = module.dashboard.name
}

output "dashboard_panels" {
  description = "The CloudWatch dashboard's panel titles."
  value       = module.dashboard.panels
}
