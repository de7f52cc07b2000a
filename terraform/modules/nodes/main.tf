# The ingestion nodes. Node i owns partition i: its gp3 volume and its network interface are
# resources of their own, so a replaced instance gets the same volume (never deleted on
# termination) and the same private address (the routers' membership does not change).

variable "name" {
  description = "Cluster name."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "node_count" {
  description = "Number of nodes."
  type        = number
}

variable "instance_type" {
  description = "c5 or c5d instance type."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets to spread the nodes over."
  type        = list(string)
}

variable "vpc_id" {
  description = "VPC of the nodes."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR (health checks, operators inside the VPC)."
  type        = string
}

variable "ami_id" {
  description = "Amazon Linux 2023 AMI the instances boot."
  type        = string
}

variable "instance_profile" {
  description = "IAM instance profile of the nodes."
  type        = string
}

variable "volume_size_gib" {
  description = "gp3 volume size, GiB."
  type        = number
}

variable "volume_iops" {
  description = "gp3 provisioned IOPS."
  type        = number
}

variable "volume_throughput_mibps" {
  description = "gp3 provisioned throughput, MiB/s."
  type        = number
}

variable "durability" {
  description = "sync, async or none."
  type        = string
}

variable "catalog_properties" {
  description = "Iceberg catalog properties written as catalog.<key> into the node configuration."
  type        = map(string)
}

variable "table_target_file_bytes" {
  description = "Target Parquet file size in bytes."
  type        = number
}

variable "flush_max_age_seconds" {
  description = "Maximum age of unflushed events."
  type        = number
}

variable "artifact_s3_uri" {
  description = "Release tarball."
  type        = string
}

variable "ingest_token_secret_arn" {
  description = "Secrets Manager ARN of the ingestion token, or empty."
  type        = string
}

variable "ssh_cidrs" {
  description = "CIDRs allowed to SSH; empty for none."
  type        = list(string)
}

data "aws_subnet" "node" {
  count = var.node_count
  id    = var.subnet_ids[count.index % length(var.subnet_ids)]
}

resource "aws_security_group" "nodes" {
  name_prefix = "${var.name}-nodes-"
  description = "Floe nodes: ingestion from routers, metrics and health from inside the VPC"
  vpc_id      = var.vpc_id

  ingress {
    description = "health checks, metrics and status from inside the VPC"
    from_port   = 8081
    to_port     = 8081
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
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
    description = "S3, the catalog, package repositories, SSM"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_ebs_volume" "data" {
  count             = var.node_count
  availability_zone = data.aws_subnet.node[count.index].availability_zone
  type              = "gp3"
  size              = var.volume_size_gib
  iops              = var.volume_iops
  throughput        = var.volume_throughput_mibps
  encrypted         = true
  final_snapshot    = true
  tags              = { Name = "${var.name}-node-${count.index}-data", "floe:partition" = tostring(count.index) }
}

resource "aws_network_interface" "node" {
  count           = var.node_count
  subnet_id       = data.aws_subnet.node[count.index].id
  security_groups = [aws_security_group.nodes.id]
  tags            = { Name = "${var.name}-node-${count.index}" }
}

resource "aws_instance" "node" {
  count                = var.node_count
  ami                  = var.ami_id
  instance_type        = var.instance_type
  iam_instance_profile = var.instance_profile
  ebs_optimized        = true
  monitoring           = true

  network_interface {
    network_interface_id = aws_network_interface.node[count.index].id
    device_index         = 0
  }

  metadata_options {
    http_tokens   = "required"
    http_endpoint = "enabled"
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = 30
    encrypted             = true
    delete_on_termination = true
  }

  user_data_replace_on_change = true
  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    partition_id            = count.index
    region                  = var.region
    volume_id               = aws_ebs_volume.data[count.index].id
    setup_disks             = file("${path.module}/scripts/setup-disks.sh")
    artifact_s3_uri         = var.artifact_s3_uri
    durability              = var.durability
    buffer_max_bytes        = floor(var.volume_size_gib * 0.8 * 1073741824)
    table_target_file_bytes = var.table_target_file_bytes
    flush_max_age_seconds   = var.flush_max_age_seconds
    catalog_properties      = var.catalog_properties
    ingest_token_secret_arn = var.ingest_token_secret_arn
  })

  tags = { Name = "${var.name}-node-${count.index}", "floe:partition" = tostring(count.index) }
}

resource "aws_volume_attachment" "data" {
  count                          = var.node_count
  device_name                    = "/dev/sdf"
  volume_id                      = aws_ebs_volume.data[count.index].id
  instance_id                    = aws_instance.node[count.index].id
  stop_instance_before_detaching = true
}

output "addresses" {
  description = "host:port of each node, in partition order."
  value       = [for eni in aws_network_interface.node : "${eni.private_ip}:8081"]
}

output "security_group_id" {
  description = "Security group of the nodes."
  value       = aws_security_group.nodes.id
}
