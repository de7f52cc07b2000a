output "ingestion_url" {
  description = "Where producers POST events: <url>/v1/streams/{stream}/events."
  value       = module.load_balancer.url
}

output "ingestion_tls_url" {
  description = "The TLS endpoint, when a certificate was given."
  value       = module.load_balancer.tls_url
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
    ] : ["iceberg.catalog.type=rest", "iceberg.rest-catalog.uri=${local.catalog_uri}"]
  ))
}
