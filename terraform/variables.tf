variable "name" {
  description = "Name of the cluster; prefixes every resource and tags them (floe:cluster)."
  type        = string
  default     = "floe"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name must be 2-31 characters of a-z, 0-9 and '-', starting with a letter."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}

variable "vpc_id" {
  description = "Existing VPC to deploy into; null creates a new VPC with private subnets and VPC endpoints (no NAT, no public IPs)."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Private subnets of the existing VPC (two or more AZs) for nodes, routers, catalog and internal load balancers; required with vpc_id. They need a route to S3, SSM, Secrets Manager and CloudWatch (NAT or VPC endpoints; see create_vpc_endpoints)."
  type        = list(string)
  default     = []
  validation {
    condition     = length(var.subnet_ids) == 0 || length(var.subnet_ids) >= 2
    error_message = "subnet_ids must name at least two subnets (in different availability zones)."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC created when vpc_id is null."
  type        = string
  default     = "10.42.0.0/16"
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "public_subnet_ids" {
  description = "Public subnets of the existing VPC for an internet-facing load balancer (public_load_balancer = true with vpc_id)."
  type        = list(string)
  default     = []
}

variable "create_vpc_endpoints" {
  description = "Create interface endpoints for SSM, Secrets Manager, CloudWatch (and Glue or S3 Tables); null creates them only in a VPC created here. Set true for an existing VPC without NAT or endpoints."
  type        = bool
  default     = null
}

variable "public_load_balancer" {
  description = "Make the ingestion load balancer internet-facing (in public subnets); instances stay private either way."
  type        = bool
  default     = false
}

variable "ami_id" {
  description = "AMI of every instance (Amazon Linux 2023, x86_64). Pin it: null takes the latest AL2023 at creation, and instances ignore later changes of either; roll a new AMI with scripts/rolling-update --replace."
  type        = string
  default     = null
  validation {
    condition     = var.ami_id == null || can(regex("^ami-[0-9a-f]{8,17}$", coalesce(var.ami_id, "x")))
    error_message = "ami_id must be an AMI id (ami-...), or null."
  }
}

variable "az_count" {
  description = "Availability zones used when the VPC is created here."
  type        = number
  default     = 3
  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6
    error_message = "az_count must be between 2 and 6."
  }
}

variable "node_count" {
  description = "Number of ingestion nodes; each owns one partition (its id is its index) and one gp3 volume."
  type        = number
  default     = 3
  validation {
    condition     = var.node_count >= 1 && var.node_count <= 256 && floor(var.node_count) == var.node_count
    error_message = "node_count must be a whole number between 1 and 256."
  }
}

variable "node_instance_type" {
  description = "Instance type of the nodes: a c5-family type (c5.* or c5d.*; c5d's NVMe instance store is used for Parquet staging)."
  type        = string
  default     = "c5.2xlarge"
  validation {
    condition     = can(regex("^c5d?\\.(large|[0-9]*xlarge|metal)$", var.node_instance_type))
    error_message = "node_instance_type must be a c5 or c5d type, e.g. c5.2xlarge or c5d.4xlarge."
  }
}

variable "node_volume_size_gib" {
  description = "Size of each node's gp3 volume (RocksDB partition buffer), GiB."
  type        = number
  default     = 200
  validation {
    condition     = var.node_volume_size_gib >= 20 && var.node_volume_size_gib <= 16384
    error_message = "node_volume_size_gib must be between 20 and 16384."
  }
}

variable "node_volume_iops" {
  description = "Provisioned IOPS of each node's gp3 volume (3,000 to 16,000); null sizes it to what the instance type's EBS bandwidth can use (10,000 on a c5.2xlarge)."
  type        = number
  default     = null
  validation {
    condition     = var.node_volume_iops == null || (coalesce(var.node_volume_iops, 0) >= 3000 && coalesce(var.node_volume_iops, 0) <= 16000)
    error_message = "node_volume_iops must be between 3000 and 16000 (gp3), or null."
  }
  validation {
    condition     = var.node_volume_iops == null || coalesce(var.node_volume_iops, 0) <= 500 * var.node_volume_size_gib
    error_message = "node_volume_iops: gp3 allows at most 500 IOPS per GiB of node_volume_size_gib."
  }
}

variable "node_volume_throughput_mibps" {
  description = "Provisioned throughput of each node's gp3 volume, MiB/s (125 to 1,000); null sizes it to the instance type's EBS bandwidth (274 MiB/s, i.e. 287.5 MB/s, on a c5.2xlarge)."
  type        = number
  default     = null
  validation {
    condition     = var.node_volume_throughput_mibps == null || (coalesce(var.node_volume_throughput_mibps, 0) >= 125 && coalesce(var.node_volume_throughput_mibps, 0) <= 1000)
    error_message = "node_volume_throughput_mibps must be between 125 and 1000 (gp3), or null."
  }
  validation {
    condition     = var.node_volume_throughput_mibps == null || var.node_volume_iops == null || coalesce(var.node_volume_throughput_mibps, 0) * 4 <= coalesce(var.node_volume_iops, 0)
    error_message = "node_volume_throughput_mibps: gp3 allows at most 0.25 MiB/s per provisioned IOPS."
  }
}

variable "durability" {
  description = "Node acknowledgement durability: sync (fsync before ack), async or none."
  type        = string
  default     = "sync"
  validation {
    condition     = contains(["sync", "async", "none"], var.durability)
    error_message = "durability must be sync, async or none."
  }
}

variable "router_count" {
  description = "Number of router instances behind the load balancer."
  type        = number
  default     = 2
  validation {
    condition     = var.router_count >= 1 && var.router_count <= 64
    error_message = "router_count must be between 1 and 64."
  }
}

variable "router_instance_type" {
  description = "Instance type of the routers."
  type        = string
  default     = "c5.xlarge"
  validation {
    condition     = can(regex("^c5n?\\.", var.router_instance_type))
    error_message = "router_instance_type must be a c5 or c5n type."
  }
}

variable "artifact_s3_uri" {
  description = "S3 URI of the Floe release tarball built by scripts/package (e.g. s3://my-artifacts/floe-0.1.0.tar.gz); instances download it at boot."
  type        = string
  validation {
    condition     = can(regex("^s3://[a-z0-9.-]{3,63}/.+\\.tar\\.gz$", var.artifact_s3_uri))
    error_message = "artifact_s3_uri must be an s3://bucket/key.tar.gz URI."
  }
}

variable "catalog_type" {
  description = "Catalog the table lives in: floe (Floe's REST catalog service on EC2 over RDS PostgreSQL), glue (AWS Glue Data Catalog) or s3tables (Amazon S3 Tables)."
  type        = string
  default     = "floe"
  validation {
    condition     = contains(["floe", "glue", "s3tables"], var.catalog_type)
    error_message = "catalog_type must be floe, glue or s3tables."
  }
}

variable "catalog_count" {
  description = "Instances of Floe's catalog service (catalog_type = floe), spread over availability zones behind an internal load balancer."
  type        = number
  default     = 2
  validation {
    condition     = var.catalog_count >= 1 && var.catalog_count <= 8
    error_message = "catalog_count must be between 1 and 8."
  }
}

variable "catalog_instance_type" {
  description = "Instance type of Floe's catalog service (catalog_type = floe)."
  type        = string
  default     = "t3.medium"
}

variable "catalog_db_instance_class" {
  description = "RDS PostgreSQL instance class behind Floe's catalog service (catalog_type = floe)."
  type        = string
  default     = "db.t4g.medium"
}

variable "bucket_name" {
  description = "Name of the S3 bucket for table data; null derives one from name and the account id."
  type        = string
  default     = null
}

variable "force_destroy_bucket" {
  description = "Let terraform destroy delete the bucket with its data (for test clusters only)."
  type        = bool
  default     = false
}

variable "internal_tls" {
  description = "TLS between routers and nodes (default on): each node makes a self-signed certificate for its private address at start (the key never leaves it) and publishes it to SSM; routers trust exactly the published certificates and verify the address."
  type        = bool
  default     = true
}

variable "producers" {
  description = <<-EOT
    Producer tokens, one generated secret each: name -> { streams = the stream patterns it may
    write (`*` wildcard; empty = every stream), events_per_second, bytes_per_second (e.g. "50MiB") }.
    Over its quota a producer gets 429 with Retry-After. Add or remove producers with an apply; the
    routers pick up the change within 5 minutes without a restart.
  EOT
  type = map(object({
    streams           = optional(list(string), [])
    events_per_second = optional(number)
    bytes_per_second  = optional(string)
  }))
  default = { default = {} }
  validation {
    condition     = length(var.producers) > 0 && alltrue([for n, _ in var.producers : can(regex("^[a-z0-9][a-z0-9_-]{0,39}$", n))])
    error_message = "producers needs at least one entry, named with 1-40 of a-z 0-9 _ - (starting with a letter or digit)."
  }
  validation {
    condition     = alltrue(flatten([for _, p in var.producers : [for s in p.streams : can(regex("^[a-z*][a-z0-9_*-]{0,127}$", s))]]))
    error_message = "producers: each stream pattern is a stream name (a-z 0-9 _ -, starting with a letter) in which * matches anything."
  }
  validation {
    condition = alltrue([for _, p in var.producers : (p.events_per_second == null ? true : p.events_per_second >= 1 && floor(p.events_per_second) == p.events_per_second) &&
    (p.bytes_per_second == null ? true : can(regex("^[1-9][0-9]*(B|KiB|MiB|GiB)?$", p.bytes_per_second)))])
    error_message = "producers: events_per_second is a whole number >= 1 and bytes_per_second a size such as 1048576, 512KiB, 50MiB or 1GiB."
  }
}

variable "ingest_cidrs" {
  description = "CIDR blocks allowed to send events to the load balancer."
  type        = list(string)
  default     = ["10.0.0.0/8"]
  validation {
    condition     = alltrue([for c in var.ingest_cidrs : can(cidrhost(c, 0))])
    error_message = "ingest_cidrs must be valid IPv4 CIDR blocks."
  }
}

variable "query_cidrs" {
  description = "CIDR blocks allowed to reach the catalog service (Spark, Trino)."
  type        = list(string)
  default     = ["10.0.0.0/8"]
  validation {
    condition     = alltrue([for c in var.query_cidrs : can(cidrhost(c, 0))])
    error_message = "query_cidrs must be valid IPv4 CIDR blocks."
  }
}

variable "tls_certificate_arn" {
  description = "ACM certificate ARN; when set the load balancer listens with TLS on 443 only (no plaintext listener)."
  type        = string
  default     = null
}

variable "alarm_topic_arn" {
  description = "SNS topic that CloudWatch alarms notify; null creates the alarms without actions."
  type        = string
  default     = null
}

variable "log_retention_days" {
  description = "Retention of the CloudWatch log groups, days."
  type        = number
  default     = 30
}

variable "flush_max_age_seconds" {
  description = "Nodes flush when the oldest unflushed event is this old (visibility lag)."
  type        = number
  default     = 30
  validation {
    condition     = var.flush_max_age_seconds > 0 && var.flush_max_age_seconds <= 3600
    error_message = "flush_max_age_seconds must be between 0 and 3600."
  }
}

variable "commit_mode" {
  description = "direct: each node commits its own flushes; coordinated: one node (the committer role, won through the table) commits every node's flushes in one transaction per interval, so table commits stay flat as nodes are added. Coordinated nodes reach each other on the node port (a security group rule), advertise their private address, share a `cluster` token, and their catalog tokens are not bound to one partition. With internal_tls the hand-over is TLS too: each node trusts exactly the certificates the nodes published."
  type        = string
  default     = "direct"
  validation {
    condition     = contains(["direct", "coordinated"], var.commit_mode)
    error_message = "commit_mode must be direct or coordinated."
  }
}

variable "target_file_size_mib" {
  description = "Target Parquet data file size, MiB."
  type        = number
  default     = 128
  validation {
    condition     = var.target_file_size_mib >= 8 && var.target_file_size_mib <= 1024
    error_message = "target_file_size_mib must be between 8 and 1024."
  }
}
