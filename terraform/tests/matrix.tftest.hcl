# The deployment matrix: N = 1, 3 and 12 nodes for each catalog type, in a VPC created here and in
# an existing one, applied against the mock provider. Each (catalog, VPC) pair keeps its own state
# and grows 1 -> 3 -> 12, so every step is also a scale-up that must keep the partitions it had.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  artifact_s3_uri    = "s3://floe-artifacts/releases/floe-0.1.0.tar.gz"
  node_instance_type = "c5d.2xlarge"
  existing = {
    vpc_id     = "vpc-0123456789abcdef0"
    subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb", "subnet-0cccccccccccccccc"]
  }
}

run "floe_new_1" {
  command   = apply
  state_key = "floe_new"

  variables {
    node_count   = 1
    catalog_type = "floe"
  }

  assert {
    condition     = length(output.nodes) == 1 && length(output.node_instance_ids) == 1
    error_message = "1 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 1 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "1 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 1
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(1, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = startswith(output.catalog_uri, "http://") && endswith(output.catalog_uri, ":8181") && length(output.catalog_instance_ids) == 2
    error_message = "the catalog service: two instances behind a load balancer"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=rest") && strcontains(output.trino_settings, "iceberg.rest-catalog.uri=${output.catalog_uri}")
    error_message = "Spark and Trino settings name the REST catalog"
  }

  assert {
    condition     = alltrue([for s in ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"] : contains(output.interface_endpoints, s)])
    error_message = "the interface endpoints boot needs"
  }

  assert {
    condition     = strcontains(module.routers.config, "router.catalog-uri=${output.catalog_uri}") && contains(module.catalog.load_balancer_ingress.security_groups, module.routers.security_group_id)
    error_message = "the routers' console reads the catalog service through its load balancer"
  }
}

run "floe_new_3" {
  command   = apply
  state_key = "floe_new"

  variables {
    node_count   = 3
    catalog_type = "floe"
  }

  assert {
    condition     = length(output.nodes) == 3 && length(output.node_instance_ids) == 3
    error_message = "3 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 3 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "3 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 3
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(3, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = startswith(output.catalog_uri, "http://") && endswith(output.catalog_uri, ":8181") && length(output.catalog_instance_ids) == 2
    error_message = "the catalog service: two instances behind a load balancer"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=rest") && strcontains(output.trino_settings, "iceberg.rest-catalog.uri=${output.catalog_uri}")
    error_message = "Spark and Trino settings name the REST catalog"
  }

  assert {
    condition     = alltrue([for s in ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"] : contains(output.interface_endpoints, s)])
    error_message = "the interface endpoints boot needs"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.floe_new_1.node_volume_ids)) == run.floe_new_1.node_volume_ids && slice(output.node_instance_ids, 0, length(run.floe_new_1.node_instance_ids)) == run.floe_new_1.node_instance_ids && slice(output.node_zones, 0, length(run.floe_new_1.node_zones)) == run.floe_new_1.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }
}

run "floe_new_12" {
  command   = apply
  state_key = "floe_new"

  variables {
    node_count   = 12
    catalog_type = "floe"
  }

  assert {
    condition     = length(output.nodes) == 12 && length(output.node_instance_ids) == 12
    error_message = "12 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 12 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "12 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 12
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(12, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = startswith(output.catalog_uri, "http://") && endswith(output.catalog_uri, ":8181") && length(output.catalog_instance_ids) == 2
    error_message = "the catalog service: two instances behind a load balancer"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=rest") && strcontains(output.trino_settings, "iceberg.rest-catalog.uri=${output.catalog_uri}")
    error_message = "Spark and Trino settings name the REST catalog"
  }

  assert {
    condition     = alltrue([for s in ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"] : contains(output.interface_endpoints, s)])
    error_message = "the interface endpoints boot needs"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.floe_new_3.node_volume_ids)) == run.floe_new_3.node_volume_ids && slice(output.node_instance_ids, 0, length(run.floe_new_3.node_instance_ids)) == run.floe_new_3.node_instance_ids && slice(output.node_zones, 0, length(run.floe_new_3.node_zones)) == run.floe_new_3.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }
}

run "floe_existing_1" {
  command   = apply
  state_key = "floe_existing"

  variables {
    node_count   = 1
    catalog_type = "floe"
    vpc_id       = var.existing.vpc_id
    subnet_ids   = var.existing.subnet_ids
  }

  assert {
    condition     = length(output.nodes) == 1 && length(output.node_instance_ids) == 1
    error_message = "1 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 1 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "1 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 1
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(1, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = startswith(output.catalog_uri, "http://") && endswith(output.catalog_uri, ":8181") && length(output.catalog_instance_ids) == 2
    error_message = "the catalog service: two instances behind a load balancer"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=rest") && strcontains(output.trino_settings, "iceberg.rest-catalog.uri=${output.catalog_uri}")
    error_message = "Spark and Trino settings name the REST catalog"
  }

  assert {
    condition     = length(output.interface_endpoints) == 0
    error_message = "no endpoints created in an existing VPC unless asked"
  }
}

run "floe_existing_3" {
  command   = apply
  state_key = "floe_existing"

  variables {
    node_count   = 3
    catalog_type = "floe"
    vpc_id       = var.existing.vpc_id
    subnet_ids   = var.existing.subnet_ids
  }

  assert {
    condition     = length(output.nodes) == 3 && length(output.node_instance_ids) == 3
    error_message = "3 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 3 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "3 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 3
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(3, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = startswith(output.catalog_uri, "http://") && endswith(output.catalog_uri, ":8181") && length(output.catalog_instance_ids) == 2
    error_message = "the catalog service: two instances behind a load balancer"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=rest") && strcontains(output.trino_settings, "iceberg.rest-catalog.uri=${output.catalog_uri}")
    error_message = "Spark and Trino settings name the REST catalog"
  }

  assert {
    condition     = length(output.interface_endpoints) == 0
    error_message = "no endpoints created in an existing VPC unless asked"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.floe_existing_1.node_volume_ids)) == run.floe_existing_1.node_volume_ids && slice(output.node_instance_ids, 0, length(run.floe_existing_1.node_instance_ids)) == run.floe_existing_1.node_instance_ids && slice(output.node_zones, 0, length(run.floe_existing_1.node_zones)) == run.floe_existing_1.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }
}

run "floe_existing_12" {
  command   = apply
  state_key = "floe_existing"

  variables {
    node_count   = 12
    catalog_type = "floe"
    vpc_id       = var.existing.vpc_id
    subnet_ids   = var.existing.subnet_ids
  }

  assert {
    condition     = length(output.nodes) == 12 && length(output.node_instance_ids) == 12
    error_message = "12 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 12 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "12 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 12
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(12, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = startswith(output.catalog_uri, "http://") && endswith(output.catalog_uri, ":8181") && length(output.catalog_instance_ids) == 2
    error_message = "the catalog service: two instances behind a load balancer"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=rest") && strcontains(output.trino_settings, "iceberg.rest-catalog.uri=${output.catalog_uri}")
    error_message = "Spark and Trino settings name the REST catalog"
  }

  assert {
    condition     = length(output.interface_endpoints) == 0
    error_message = "no endpoints created in an existing VPC unless asked"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.floe_existing_3.node_volume_ids)) == run.floe_existing_3.node_volume_ids && slice(output.node_instance_ids, 0, length(run.floe_existing_3.node_instance_ids)) == run.floe_existing_3.node_instance_ids && slice(output.node_zones, 0, length(run.floe_existing_3.node_zones)) == run.floe_existing_3.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }

  assert {
    condition     = strcontains(module.routers.config, "router.catalog-uri=${output.catalog_uri}") && contains(module.catalog.load_balancer_ingress.security_groups, module.routers.security_group_id)
    error_message = "the routers' console reads the catalog service through its load balancer"
  }
}

run "glue_new_1" {
  command   = apply
  state_key = "glue_new"

  variables {
    node_count   = 1
    catalog_type = "glue"
  }

  assert {
    condition     = length(output.nodes) == 1 && length(output.node_instance_ids) == 1
    error_message = "1 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 1 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "1 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 1
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(1, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == null && length(output.catalog_instance_ids) == 0
    error_message = "no catalog service with glue"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=glue") && strcontains(output.trino_settings, "iceberg.catalog.type=glue")
    error_message = "Spark and Trino settings name Glue"
  }

  assert {
    condition     = contains(output.interface_endpoints, "glue") || var.vpc_id != null
    error_message = "a Glue endpoint in a created VPC"
  }

  assert {
    condition     = alltrue([for s in ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"] : contains(output.interface_endpoints, s)])
    error_message = "the interface endpoints boot needs"
  }

  assert {
    condition     = !strcontains(module.routers.config, "router.catalog-uri") && module.catalog.load_balancer_ingress == null
    error_message = "no catalog service for the routers' console to read"
  }
}

run "glue_new_3" {
  command   = apply
  state_key = "glue_new"

  variables {
    node_count   = 3
    catalog_type = "glue"
  }

  assert {
    condition     = length(output.nodes) == 3 && length(output.node_instance_ids) == 3
    error_message = "3 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 3 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "3 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 3
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(3, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == null && length(output.catalog_instance_ids) == 0
    error_message = "no catalog service with glue"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=glue") && strcontains(output.trino_settings, "iceberg.catalog.type=glue")
    error_message = "Spark and Trino settings name Glue"
  }

  assert {
    condition     = contains(output.interface_endpoints, "glue") || var.vpc_id != null
    error_message = "a Glue endpoint in a created VPC"
  }

  assert {
    condition     = alltrue([for s in ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"] : contains(output.interface_endpoints, s)])
    error_message = "the interface endpoints boot needs"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.glue_new_1.node_volume_ids)) == run.glue_new_1.node_volume_ids && slice(output.node_instance_ids, 0, length(run.glue_new_1.node_instance_ids)) == run.glue_new_1.node_instance_ids && slice(output.node_zones, 0, length(run.glue_new_1.node_zones)) == run.glue_new_1.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }
}

run "glue_new_12" {
  command   = apply
  state_key = "glue_new"

  variables {
    node_count   = 12
    catalog_type = "glue"
  }

  assert {
    condition     = length(output.nodes) == 12 && length(output.node_instance_ids) == 12
    error_message = "12 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 12 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "12 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 12
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(12, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == null && length(output.catalog_instance_ids) == 0
    error_message = "no catalog service with glue"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=glue") && strcontains(output.trino_settings, "iceberg.catalog.type=glue")
    error_message = "Spark and Trino settings name Glue"
  }

  assert {
    condition     = contains(output.interface_endpoints, "glue") || var.vpc_id != null
    error_message = "a Glue endpoint in a created VPC"
  }

  assert {
    condition     = alltrue([for s in ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"] : contains(output.interface_endpoints, s)])
    error_message = "the interface endpoints boot needs"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.glue_new_3.node_volume_ids)) == run.glue_new_3.node_volume_ids && slice(output.node_instance_ids, 0, length(run.glue_new_3.node_instance_ids)) == run.glue_new_3.node_instance_ids && slice(output.node_zones, 0, length(run.glue_new_3.node_zones)) == run.glue_new_3.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }
}

run "glue_existing_1" {
  command   = apply
  state_key = "glue_existing"

  variables {
    node_count   = 1
    catalog_type = "glue"
    vpc_id       = var.existing.vpc_id
    subnet_ids   = var.existing.subnet_ids
  }

  assert {
    condition     = length(output.nodes) == 1 && length(output.node_instance_ids) == 1
    error_message = "1 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 1 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "1 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 1
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(1, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == null && length(output.catalog_instance_ids) == 0
    error_message = "no catalog service with glue"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=glue") && strcontains(output.trino_settings, "iceberg.catalog.type=glue")
    error_message = "Spark and Trino settings name Glue"
  }

  assert {
    condition     = contains(output.interface_endpoints, "glue") || var.vpc_id != null
    error_message = "a Glue endpoint in a created VPC"
  }

  assert {
    condition     = length(output.interface_endpoints) == 0
    error_message = "no endpoints created in an existing VPC unless asked"
  }
}

run "glue_existing_3" {
  command   = apply
  state_key = "glue_existing"

  variables {
    node_count   = 3
    catalog_type = "glue"
    vpc_id       = var.existing.vpc_id
    subnet_ids   = var.existing.subnet_ids
  }

  assert {
    condition     = length(output.nodes) == 3 && length(output.node_instance_ids) == 3
    error_message = "3 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 3 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "3 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 3
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(3, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == null && length(output.catalog_instance_ids) == 0
    error_message = "no catalog service with glue"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=glue") && strcontains(output.trino_settings, "iceberg.catalog.type=glue")
    error_message = "Spark and Trino settings name Glue"
  }

  assert {
    condition     = contains(output.interface_endpoints, "glue") || var.vpc_id != null
    error_message = "a Glue endpoint in a created VPC"
  }

  assert {
    condition     = length(output.interface_endpoints) == 0
    error_message = "no endpoints created in an existing VPC unless asked"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.glue_existing_1.node_volume_ids)) == run.glue_existing_1.node_volume_ids && slice(output.node_instance_ids, 0, length(run.glue_existing_1.node_instance_ids)) == run.glue_existing_1.node_instance_ids && slice(output.node_zones, 0, length(run.glue_existing_1.node_zones)) == run.glue_existing_1.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }
}

run "glue_existing_12" {
  command   = apply
  state_key = "glue_existing"

  variables {
    node_count   = 12
    catalog_type = "glue"
    vpc_id       = var.existing.vpc_id
    subnet_ids   = var.existing.subnet_ids
  }

  assert {
    condition     = length(output.nodes) == 12 && length(output.node_instance_ids) == 12
    error_message = "12 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 12 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "12 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 12
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(12, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == null && length(output.catalog_instance_ids) == 0
    error_message = "no catalog service with glue"
  }

  assert {
    condition     = strcontains(output.spark_settings, "spark.sql.catalog.floe.type=glue") && strcontains(output.trino_settings, "iceberg.catalog.type=glue")
    error_message = "Spark and Trino settings name Glue"
  }

  assert {
    condition     = contains(output.interface_endpoints, "glue") || var.vpc_id != null
    error_message = "a Glue endpoint in a created VPC"
  }

  assert {
    condition     = length(output.interface_endpoints) == 0
    error_message = "no endpoints created in an existing VPC unless asked"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.glue_existing_3.node_volume_ids)) == run.glue_existing_3.node_volume_ids && slice(output.node_instance_ids, 0, length(run.glue_existing_3.node_instance_ids)) == run.glue_existing_3.node_instance_ids && slice(output.node_zones, 0, length(run.glue_existing_3.node_zones)) == run.glue_existing_3.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }

  assert {
    condition     = !strcontains(module.routers.config, "router.catalog-uri") && module.catalog.load_balancer_ingress == null
    error_message = "no catalog service for the routers' console to read"
  }
}

run "s3tables_new_1" {
  command   = apply
  state_key = "s3tables_new"

  variables {
    node_count   = 1
    catalog_type = "s3tables"
  }

  assert {
    condition     = length(output.nodes) == 1 && length(output.node_instance_ids) == 1
    error_message = "1 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 1 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "1 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 1
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(1, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == "https://s3tables.us-east-1.amazonaws.com/iceberg" && length(output.catalog_instance_ids) == 0
    error_message = "the S3 Tables endpoint"
  }

  assert {
    condition     = strcontains(output.spark_settings, "rest.signing-name=s3tables") && strcontains(output.trino_settings, "iceberg.rest-catalog.signing-name=s3tables")
    error_message = "Spark and Trino settings sign for S3 Tables"
  }

  assert {
    condition     = contains(output.interface_endpoints, "s3tables") || var.vpc_id != null
    error_message = "an S3 Tables endpoint in a created VPC"
  }

  assert {
    condition     = alltrue([for s in ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"] : contains(output.interface_endpoints, s)])
    error_message = "the interface endpoints boot needs"
  }

  assert {
    condition     = !strcontains(module.routers.config, "router.catalog-uri") && module.catalog.load_balancer_ingress == null
    error_message = "no catalog service for the routers' console to read"
  }
}

run "s3tables_new_3" {
  command   = apply
  state_key = "s3tables_new"

  variables {
    node_count   = 3
    catalog_type = "s3tables"
  }

  assert {
    condition     = length(output.nodes) == 3 && length(output.node_instance_ids) == 3
    error_message = "3 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 3 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "3 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 3
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(3, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == "https://s3tables.us-east-1.amazonaws.com/iceberg" && length(output.catalog_instance_ids) == 0
    error_message = "the S3 Tables endpoint"
  }

  assert {
    condition     = strcontains(output.spark_settings, "rest.signing-name=s3tables") && strcontains(output.trino_settings, "iceberg.rest-catalog.signing-name=s3tables")
    error_message = "Spark and Trino settings sign for S3 Tables"
  }

  assert {
    condition     = contains(output.interface_endpoints, "s3tables") || var.vpc_id != null
    error_message = "an S3 Tables endpoint in a created VPC"
  }

  assert {
    condition     = alltrue([for s in ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"] : contains(output.interface_endpoints, s)])
    error_message = "the interface endpoints boot needs"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.s3tables_new_1.node_volume_ids)) == run.s3tables_new_1.node_volume_ids && slice(output.node_instance_ids, 0, length(run.s3tables_new_1.node_instance_ids)) == run.s3tables_new_1.node_instance_ids && slice(output.node_zones, 0, length(run.s3tables_new_1.node_zones)) == run.s3tables_new_1.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }
}

run "s3tables_new_12" {
  command   = apply
  state_key = "s3tables_new"

  variables {
    node_count   = 12
    catalog_type = "s3tables"
  }

  assert {
    condition     = length(output.nodes) == 12 && length(output.node_instance_ids) == 12
    error_message = "12 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 12 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "12 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 12
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(12, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == "https://s3tables.us-east-1.amazonaws.com/iceberg" && length(output.catalog_instance_ids) == 0
    error_message = "the S3 Tables endpoint"
  }

  assert {
    condition     = strcontains(output.spark_settings, "rest.signing-name=s3tables") && strcontains(output.trino_settings, "iceberg.rest-catalog.signing-name=s3tables")
    error_message = "Spark and Trino settings sign for S3 Tables"
  }

  assert {
    condition     = contains(output.interface_endpoints, "s3tables") || var.vpc_id != null
    error_message = "an S3 Tables endpoint in a created VPC"
  }

  assert {
    condition     = alltrue([for s in ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"] : contains(output.interface_endpoints, s)])
    error_message = "the interface endpoints boot needs"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.s3tables_new_3.node_volume_ids)) == run.s3tables_new_3.node_volume_ids && slice(output.node_instance_ids, 0, length(run.s3tables_new_3.node_instance_ids)) == run.s3tables_new_3.node_instance_ids && slice(output.node_zones, 0, length(run.s3tables_new_3.node_zones)) == run.s3tables_new_3.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }
}

run "s3tables_existing_1" {
  command   = apply
  state_key = "s3tables_existing"

  variables {
    node_count   = 1
    catalog_type = "s3tables"
    vpc_id       = var.existing.vpc_id
    subnet_ids   = var.existing.subnet_ids
  }

  assert {
    condition     = length(output.nodes) == 1 && length(output.node_instance_ids) == 1
    error_message = "1 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 1 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "1 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 1
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(1, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == "https://s3tables.us-east-1.amazonaws.com/iceberg" && length(output.catalog_instance_ids) == 0
    error_message = "the S3 Tables endpoint"
  }

  assert {
    condition     = strcontains(output.spark_settings, "rest.signing-name=s3tables") && strcontains(output.trino_settings, "iceberg.rest-catalog.signing-name=s3tables")
    error_message = "Spark and Trino settings sign for S3 Tables"
  }

  assert {
    condition     = contains(output.interface_endpoints, "s3tables") || var.vpc_id != null
    error_message = "an S3 Tables endpoint in a created VPC"
  }

  assert {
    condition     = length(output.interface_endpoints) == 0
    error_message = "no endpoints created in an existing VPC unless asked"
  }
}

run "s3tables_existing_3" {
  command   = apply
  state_key = "s3tables_existing"

  variables {
    node_count   = 3
    catalog_type = "s3tables"
    vpc_id       = var.existing.vpc_id
    subnet_ids   = var.existing.subnet_ids
  }

  assert {
    condition     = length(output.nodes) == 3 && length(output.node_instance_ids) == 3
    error_message = "3 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 3 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "3 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 3
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(3, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == "https://s3tables.us-east-1.amazonaws.com/iceberg" && length(output.catalog_instance_ids) == 0
    error_message = "the S3 Tables endpoint"
  }

  assert {
    condition     = strcontains(output.spark_settings, "rest.signing-name=s3tables") && strcontains(output.trino_settings, "iceberg.rest-catalog.signing-name=s3tables")
    error_message = "Spark and Trino settings sign for S3 Tables"
  }

  assert {
    condition     = contains(output.interface_endpoints, "s3tables") || var.vpc_id != null
    error_message = "an S3 Tables endpoint in a created VPC"
  }

  assert {
    condition     = length(output.interface_endpoints) == 0
    error_message = "no endpoints created in an existing VPC unless asked"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.s3tables_existing_1.node_volume_ids)) == run.s3tables_existing_1.node_volume_ids && slice(output.node_instance_ids, 0, length(run.s3tables_existing_1.node_instance_ids)) == run.s3tables_existing_1.node_instance_ids && slice(output.node_zones, 0, length(run.s3tables_existing_1.node_zones)) == run.s3tables_existing_1.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }
}

run "s3tables_existing_12" {
  command   = apply
  state_key = "s3tables_existing"

  variables {
    node_count   = 12
    catalog_type = "s3tables"
    vpc_id       = var.existing.vpc_id
    subnet_ids   = var.existing.subnet_ids
  }

  assert {
    condition     = length(output.nodes) == 12 && length(output.node_instance_ids) == 12
    error_message = "12 node instances"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.instance_type == "c5d.2xlarge"])
    error_message = "every node is the chosen c5d type"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.volume_id])) == 12 && alltrue([for n in output.nodes : n.volume_type == "gp3" && n.iops == 10000 && n.throughput == 274 && n.attached])
    error_message = "12 gp3 volumes sized to a c5d.2xlarge (10,000 IOPS, 274 MiB/s), each attached to its node"
  }

  assert {
    condition     = length(distinct([for n in output.nodes : n.interface_id])) == 12
    error_message = "one network interface per node"
  }

  assert {
    condition     = alltrue([for n in output.nodes : n.subnet_id == module.network.subnet_by_zone[n.zone]])
    error_message = "each node sits in the subnet of its volume zone"
  }

  assert {
    condition     = length(distinct(output.node_zones)) == min(12, length(module.network.subnet_by_zone))
    error_message = "partitions spread over the zones"
  }

  assert {
    condition     = output.load_balancer_ports == [80] && startswith(output.ingestion_url, "http://")
    error_message = "one plaintext listener without a certificate"
  }

  assert {
    condition     = length(output.router_instance_ids) == 2
    error_message = "two routers"
  }

  assert {
    condition     = output.catalog_uri == "https://s3tables.us-east-1.amazonaws.com/iceberg" && length(output.catalog_instance_ids) == 0
    error_message = "the S3 Tables endpoint"
  }

  assert {
    condition     = strcontains(output.spark_settings, "rest.signing-name=s3tables") && strcontains(output.trino_settings, "iceberg.rest-catalog.signing-name=s3tables")
    error_message = "Spark and Trino settings sign for S3 Tables"
  }

  assert {
    condition     = contains(output.interface_endpoints, "s3tables") || var.vpc_id != null
    error_message = "an S3 Tables endpoint in a created VPC"
  }

  assert {
    condition     = length(output.interface_endpoints) == 0
    error_message = "no endpoints created in an existing VPC unless asked"
  }

  assert {
    condition     = slice(output.node_volume_ids, 0, length(run.s3tables_existing_3.node_volume_ids)) == run.s3tables_existing_3.node_volume_ids && slice(output.node_instance_ids, 0, length(run.s3tables_existing_3.node_instance_ids)) == run.s3tables_existing_3.node_instance_ids && slice(output.node_zones, 0, length(run.s3tables_existing_3.node_zones)) == run.s3tables_existing_3.node_zones
    error_message = "scaling up keeps every existing partition: same volume, instance and zone"
  }

  assert {
    condition     = !strcontains(module.routers.config, "router.catalog-uri") && module.catalog.load_balancer_ingress == null
    error_message = "no catalog service for the routers' console to read"
  }
}
