# What keeps a deployed cluster safe across routine applies: TLS without a plaintext listener,
# pinned AMIs, partitions that stay in their zone whatever happens to the subnet list, gp3 sized
# to the instance, no public addresses, least-privilege roles, and a boot that mounts before it
# starts.

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  artifact_s3_uri = "s3://floe-artifacts/releases/floe-0.1.0.tar.gz"
  node_count      = 3
}

run "tls_only" {
  command = apply
  variables {
    tls_certificate_arn = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"
  }
  assert {
    condition     = output.load_balancer_ports == [443] && startswith(output.ingestion_url, "https://")
    error_message = "with a certificate the load balancer listens on 443 only"
  }
}

run "pinned_ami" {
  command   = apply
  state_key = "ami"
  variables {
    ami_id = "ami-0123456789abcdef0"
  }
  assert {
    condition     = alltrue([for n in output.nodes : n.ami == "ami-0123456789abcdef0"])
    error_message = "instances boot the pinned AMI"
  }
  assert {
    condition     = length(data.aws_ssm_parameter.al2023) == 0
    error_message = "no lookup of the latest AMI when one is pinned"
  }
}

run "new_ami_replaces_nothing" {
  command   = apply
  state_key = "ami"
  variables {
    ami_id       = "ami-0fedcba9876543210"
    router_count = 2
  }
  assert {
    condition     = output.node_instance_ids == run.pinned_ami.node_instance_ids && output.router_instance_ids == run.pinned_ami.router_instance_ids
    error_message = "a new AMI replaces no instance on apply (scripts/rolling-update --replace rolls it)"
  }
}

run "subnets_in_order" {
  command   = apply
  state_key = "placement"
  variables {
    vpc_id     = "vpc-0123456789abcdef0"
    subnet_ids = ["subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb", "subnet-0cccccccccccccccc"]
  }
  assert {
    condition     = output.node_zones == ["us-east-1a", "us-east-1b", "us-east-1c"]
    error_message = "partitions are spread over the zones in order"
  }
}

run "subnets_reordered_and_added" {
  command   = apply
  state_key = "placement"
  variables {
    vpc_id     = "vpc-0123456789abcdef0"
    subnet_ids = ["subnet-0dddddddddddddddd", "subnet-0cccccccccccccccc", "subnet-0aaaaaaaaaaaaaaaa", "subnet-0bbbbbbbbbbbbbbbb"]
  }
  assert {
    condition     = output.node_zones == run.subnets_in_order.node_zones && output.node_volume_ids == run.subnets_in_order.node_volume_ids
    error_message = "a new order or a new subnet moves no partition's volume"
  }
  assert {
    condition     = [for n in output.nodes : n.subnet_id] == [for n in run.subnets_in_order.nodes : n.subnet_id] && output.node_instance_ids == run.subnets_in_order.node_instance_ids
    error_message = "nor its network interface or instance"
  }
}

run "gp3_sized_to_small_instance" {
  command = plan
  variables {
    node_instance_type = "c5.large"
  }
  assert {
    condition     = output.node_volume.iops == 4000 && output.node_volume.throughput_mibps == 125
    error_message = "a c5.large gets 4,000 IOPS and the 125 MiB/s gp3 baseline"
  }
}

run "gp3_sized_to_large_instance" {
  command = plan
  variables {
    node_instance_type = "c5.24xlarge"
  }
  assert {
    condition     = output.node_volume.iops == 16000 && output.node_volume.throughput_mibps == 1000
    error_message = "a c5.24xlarge gets the gp3 maximum"
  }
}

run "gp3_sized_to_small_volume" {
  command = plan
  variables {
    node_instance_type   = "c5.4xlarge"
    node_volume_size_gib = 20
  }
  assert {
    condition     = output.node_volume.iops == 10000 && output.node_volume.throughput_mibps == 566
    error_message = "the sizing stays within 500 IOPS per GiB"
  }
}

run "gp3_explicit" {
  command = plan
  variables {
    node_volume_iops             = 5000
    node_volume_throughput_mibps = 500
  }
  assert {
    condition     = output.node_volume.iops == 5000 && output.node_volume.throughput_mibps == 500
    error_message = "explicit IOPS and throughput win"
  }
}

run "gp3_beyond_limits" {
  command = plan
  variables {
    node_volume_size_gib = 20
    node_volume_iops     = 16000
  }
  expect_failures = [var.node_volume_iops]
}

run "private_and_least_privilege" {
  command = apply
  assert {
    condition     = module.network.load_balancer_subnet_ids == module.network.subnet_ids
    error_message = "an internal load balancer in the private subnets"
  }
  assert {
    condition     = toset(jsondecode(module.iam.policies["router"]).Statement[2].Resource) == toset(module.secrets.router_secret_arns) && !strcontains(module.iam.policies["router"], module.secrets.catalog_read_token_secret_arn) && !strcontains(module.iam.policies["router"], "warehouse") && !strcontains(module.iam.policies["router"], "rds")
    error_message = "routers read their own secrets (producers, operator, router), no catalog token and no table data"
  }
  assert {
    condition     = strcontains(module.iam.policies["catalog"], "rds-db:connect") && strcontains(module.iam.policies["catalog"], "rds!db")
    error_message = "only the catalog connects to the database and reads its master secret"
  }
  assert {
    condition     = strcontains(module.catalog.config, "maintenance.enabled=true") && length(module.catalog.maintenance_alarm_names) == 2
    error_message = "the catalog instances maintain the table, watched by two alarms"
  }
  assert {
    condition     = strcontains(module.catalog.config, "sslmode=verify-full&sslrootcert=/opt/floe/current/catalog/rds-ca.pem")
    error_message = "the catalog service verifies the database server against the RDS authorities the release carries"
  }
  assert {
    condition     = !strcontains(module.iam.policies["node"], "rds") && !strcontains(module.iam.policies["node"], "s3tables:*")
    error_message = "nodes never see the database"
  }
  assert {
    condition     = alltrue([for role, p in module.iam.policies : !strcontains(p, "\"s3:*\"") && !strcontains(p, "ssm:*")])
    error_message = "no wildcard actions"
  }
}

run "router_metrics_stay_private" {
  command = apply
  assert {
    condition     = !strcontains(module.routers.config, "auth.metrics-open") && strcontains(module.routers.config, "router.metrics-host=127.0.0.1\n") && strcontains(module.routers.config, "router.metrics-port=${module.routers.metrics_port}")
    error_message = "routers serve /metrics without a token on a loopback listener only, never on the public port"
  }
  assert {
    condition     = strcontains(module.routers.user_data, "127.0.0.1:${module.routers.metrics_port}") && module.routers.metrics_port != module.routers.port
    error_message = "the routers' CloudWatch agent scrapes the loopback metrics listener"
  }
}

run "scoped_tokens" {
  command = apply
  variables {
    producers = {
      clicks = { streams = ["clicks", "clicks-*"], events_per_second = 5000, bytes_per_second = "50MiB" }
      batch  = {}
    }
  }
  assert {
    condition = module.secrets.router_secret_lines == [
      "FLOE_ROUTER_CATALOG_TOKEN=${module.secrets.router_catalog_token_secret_arn}",
      "FLOE_ROUTER_NODE_TOKEN=${module.secrets.router_secret_arns[1]}",
      "token operator read,admin ${output.operator_token_secret_arn}",
      "token batch ingest ${output.producer_token_secret_arns["batch"]}",
      "token clicks ingest:clicks,ingest:clicks-* ${output.producer_token_secret_arns["clicks"]} events-per-second=5000 bytes-per-second=50MiB",
    ]
    error_message = "routers present their own tokens to the catalog (console) and the nodes, and authenticate each producer with its own scopes and quotas, and operators"
  }
  assert {
    condition     = length(distinct(concat(values(output.producer_token_secret_arns), [output.operator_token_secret_arn, output.catalog_read_token_secret_arn, module.secrets.router_catalog_token_secret_arn, module.secrets.router_secret_arns[1]]))) == 6 && length(module.secrets.router_secret_arns) == 5
    error_message = "every producer, the operators, the routers (to the nodes and to the catalog) and the query engines have a secret of their own"
  }
  assert {
    condition     = length(module.secrets.node_secret_lines) == 5 && [for l in slice(module.secrets.node_secret_lines, 0, 3) : split("=", l)[0]] == ["partition 0 FLOE_CATALOG_TOKEN", "partition 1 FLOE_CATALOG_TOKEN", "partition 2 FLOE_CATALOG_TOKEN"] && length(distinct([for l in slice(module.secrets.node_secret_lines, 0, 3) : split("=", l)[1]])) == 3 && module.secrets.node_secret_lines[3] == "token routers router ${module.secrets.router_secret_arns[1]}" && module.secrets.node_secret_lines[4] == "token operator read,admin ${output.operator_token_secret_arn}"
    error_message = "nodes accept the routers' token and the operators', each presents a catalog:commit token of its own partition, and none knows a producer"
  }
  assert {
    condition     = [for l in module.secrets.catalog_secret_lines : join(" ", concat(slice(split(" ", l), 0, 3), slice(split(" ", l), 4, length(split(" ", l)))))] == ["token node-0 catalog:commit partition=0", "token node-1 catalog:commit partition=1", "token node-2 catalog:commit partition=2", "token query-engines catalog:read", "token routers catalog:read", "token operator admin"] && strcontains(module.secrets.catalog_secret_lines[3], output.catalog_read_token_secret_arn) && strcontains(module.secrets.catalog_secret_lines[4], module.secrets.router_catalog_token_secret_arn) && alltrue([for i in range(3) : strcontains(module.secrets.catalog_secret_lines[i], split("=", module.secrets.node_secret_lines[i])[1])])
    error_message = "the catalog service: each node commits its own partition with its own token, query engines and the routers' console read, operators administer"
  }
  assert {
    condition     = alltrue([for a in values(output.producer_token_secret_arns) : !strcontains(module.iam.policies["node"], a) && !strcontains(module.iam.policies["catalog"], a) && strcontains(module.iam.policies["router"], a)])
    error_message = "only routers read producer tokens"
  }
}

run "tls_between_routers_and_nodes" {
  command = apply
  assert {
    condition     = strcontains(module.nodes.config, "http.tls.cert-file=/etc/floe/tls/node.crt") && strcontains(module.nodes.config, "http.tls.key-file=/etc/floe/tls/node.key") && strcontains(module.routers.config, "router.node-tls-trust-file=/etc/floe/nodes-trust.pem")
    error_message = "by default nodes listen with TLS and routers verify them"
  }
  assert {
    condition     = module.nodes.certificate_parameters == [for i in range(3) : "/floe/floe/node-certs/${i}"]
    error_message = "one certificate parameter per partition, removed with it"
  }
  assert {
    condition     = strcontains(module.iam.policies["node"], "ssm:PutParameter") && strcontains(module.iam.policies["node"], "node-certs/*") && strcontains(module.iam.policies["router"], "ssm:GetParametersByPath") && !strcontains(module.iam.policies["catalog"], "node-certs") && !strcontains(module.iam.policies["router"], "ssm:PutParameter")
    error_message = "nodes publish certificates, routers read them, nothing else"
  }
  assert {
    condition     = alltrue([for u in module.nodes.user_data : strcontains(u, "\"scheme\": \"https\"") && strcontains(u, "\"ca_file\": \"/etc/floe/tls/node.crt\"")])
    error_message = "the CloudWatch agent scrapes a TLS node over https, verifying its certificate"
  }
}

run "plaintext_between_routers_and_nodes_when_asked" {
  command = apply
  variables {
    internal_tls = false
  }
  assert {
    condition     = !strcontains(module.nodes.config, "tls") && !strcontains(module.routers.config, "tls") && length(module.nodes.certificate_parameters) == 0 && !strcontains(module.iam.policies["node"], "PutParameter") && !strcontains(module.iam.policies["node"], "GetParametersByPath")
    error_message = "no TLS settings, certificate parameters or rights without internal TLS"
  }
}

run "coordinated_commits" {
  command = apply
  variables {
    commit_mode  = "coordinated"
    internal_tls = false
  }
  assert {
    condition     = strcontains(module.nodes.config, "commit.mode=coordinated")
    error_message = "nodes run coordinated"
  }
  assert {
    condition     = length([for l in module.secrets.node_secret_lines : l if startswith(l, "FLOE_COMMIT_CLUSTER_TOKEN=")]) == 1 && length([for l in module.secrets.node_secret_lines : l if startswith(l, "token nodes cluster ")]) == 1
    error_message = "nodes present a cluster token to each other and accept it"
  }
  assert {
    condition     = length([for l in module.secrets.catalog_secret_lines : l if strcontains(l, "partition=")]) == 0
    error_message = "any node may hold the committer role, so no catalog token is bound to a partition"
  }
  assert {
    condition     = length(module.nodes.alarm_names) == 21 && contains(module.nodes.alarm_names, "floe-node-0-coordinator-churn") && contains(module.nodes.alarm_names, "floe-node-2-coordinator-pending")
    error_message = "coordinated nodes add two alarms each: the coordinator epoch's churn and pending hand-overs"
  }
}

run "coordinated_commits_with_tls_between_nodes" {
  command = apply
  variables {
    commit_mode = "coordinated"
  }
  assert {
    condition     = strcontains(module.nodes.config, "commit.cluster-tls-trust-file=/etc/floe/peers-trust.pem") && strcontains(module.nodes.config, "http.tls.cert-file=")
    error_message = "coordinated nodes hand over with TLS, trusting the nodes' published certificates"
  }
  assert {
    condition     = strcontains(module.iam.policies["node"], "ssm:GetParametersByPath") && strcontains(module.iam.policies["node"], "node-certs/*")
    error_message = "nodes read the published certificates and publish their own"
  }
  assert {
    condition     = alltrue([for u in module.nodes.user_data : strcontains(u, "floe-peers.timer") && strcontains(u, "floe-instance peers")])
    error_message = "nodes refresh the certificates they trust"
  }
}

run "producer_names_checked" {
  command = plan
  variables {
    producers = { "Bad Name" = {} }
  }
  expect_failures = [var.producers]
}

run "producer_quotas_checked" {
  command = plan
  variables {
    producers = { p = { bytes_per_second = "lots" } }
  }
  expect_failures = [var.producers]
}

run "catalog_reachable_from_nodes_routers_and_query_cidrs_only" {
  command = apply
  variables {
    query_cidrs = ["192.168.7.0/24"]
  }
  assert {
    condition     = jsonencode(module.catalog.load_balancer_ingress) == jsonencode({ cidr_blocks = ["192.168.7.0/24"], security_groups = [module.nodes.security_group_id, module.routers.security_group_id] })
    error_message = "the catalog load balancer must admit only the nodes and routers security groups and query_cidrs, got ${jsonencode(module.catalog.load_balancer_ingress)}"
  }
}

# The console's table section (router.catalog-uri, router.catalog-token): the routers read the
# catalog service's /metrics and column list through its internal load balancer, as the nodes reach
# it, with a catalog:read token of their own that the catalog's token file accepts.
run "console_reads_the_catalog" {
  command = apply
  assert {
    condition     = strcontains("${module.routers.config}\n", "\nrouter.catalog-uri=${output.catalog_uri}\n") && strcontains("${module.nodes.config}\n", "\ncatalog.uri=${output.catalog_uri}\n") && startswith(output.catalog_uri, "http://") && endswith(output.catalog_uri, ":8181")
    error_message = "routers get router.catalog-uri, the catalog's internal load balancer the nodes use"
  }
  assert {
    condition     = contains(module.secrets.router_secret_lines, "FLOE_ROUTER_CATALOG_TOKEN=${module.secrets.router_catalog_token_secret_arn}") && contains([for l in module.secrets.catalog_secret_lines : join(" ", slice(split(" ", l), 0, 4))], "token routers catalog:read ${module.secrets.router_catalog_token_secret_arn}")
    error_message = "routers present router.catalog-token (FLOE_ROUTER_CATALOG_TOKEN, from Secrets Manager) and the catalog accepts it with catalog:read"
  }
  assert {
    condition     = contains(module.secrets.router_secret_arns, module.secrets.router_catalog_token_secret_arn) && strcontains(module.iam.policies["router"], module.secrets.router_catalog_token_secret_arn) && strcontains(module.iam.policies["catalog"], module.secrets.router_catalog_token_secret_arn) && !strcontains(module.iam.policies["node"], module.secrets.router_catalog_token_secret_arn)
    error_message = "the routers and the catalog read the routers' catalog token, the nodes do not"
  }
  assert {
    condition     = anytrue([for r in module.catalog.load_balancer_rules : r.protocol == "tcp" && r.from_port == 8181 && r.to_port == 8181 && jsonencode(r.security_groups) == jsonencode([module.routers.security_group_id]) && length(r.cidr_blocks) == 0])
    error_message = "the catalog load balancer admits the routers on the catalog's port, got ${jsonencode(module.catalog.load_balancer_rules)}"
  }
  assert {
    condition     = !strcontains(module.routers.config, "catalog-token") && !strcontains(module.routers.user_data, "FLOE_ROUTER_CATALOG_TOKEN=")
    error_message = "the token itself is never in the routers' configuration or user data"
  }
}

run "console_without_floe_catalog" {
  command = apply
  variables {
    catalog_type = "glue"
  }
  assert {
    condition     = !strcontains(module.routers.config, "router.catalog-uri") && length([for l in module.secrets.router_secret_lines : l if strcontains(l, "CATALOG")]) == 0 && module.secrets.router_catalog_token_secret_arn == null
    error_message = "without Floe's catalog service the routers get no catalog setting or token (the console says the table section is not configured)"
  }
}

run "public_load_balancer" {
  command = apply
  variables {
    public_load_balancer = true
  }
  assert {
    condition     = length(setintersection(module.network.load_balancer_subnet_ids, module.network.subnet_ids)) == 0
    error_message = "an internet-facing load balancer lives in public subnets; instances stay private"
  }
}

run "node_boot" {
  command = plan
  assert {
    condition     = length(module.nodes.alarm_names) == 15 && contains(module.nodes.alarm_names, "floe-node-2-commit-failures") && contains(module.nodes.alarm_names, "floe-node-0-not-ready") && contains(module.nodes.alarm_names, "floe-node-1-dead-letters")
    error_message = "five alarms per node (not ready, flush lag, buffer filling, commit failures, dead letters)"
  }
  assert {
    condition     = alltrue([for i, u in module.nodes.user_data : strcontains(u, "node.partition-id=${i}") && strcontains(u, "RequiresMountsFor=/var/lib/floe") && strcontains(u, "Requires=floe-disks.service")])
    error_message = "each node's boot names its partition and mounts its volume before the service starts"
  }
  assert {
    condition     = alltrue([for u in module.nodes.user_data : strcontains(u, "User=floe") && !strcontains(u, "secretsmanager:") && !strcontains(u, "FLOE_HTTP_AUTH_TOKEN=")])
    error_message = "the service runs as floe and no secret is in the user data"
  }
  assert {
    condition     = alltrue([for u in module.nodes.user_data : length(base64gzip(u)) < 16384])
    error_message = "user data fits EC2's 16 KB"
  }
}
