# The routing tier: stateless instances behind the load balancer, forwarding to the nodes.

variable "name" {
  description = "Cluster name."
  type        = string
}

variable "region" {
  description = "AWS region."
  type        = string
}

variable "router_count" {
  description = "Number of routers."
  type        = number
}

variable "instance_type" {
  description = "Router instance type."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets to spread the routers over."
  type        = list(string)
}

variable "vpc_id" {
  description = "VPC of the routers."
  type        = string
}

variable "vpc_cidr" {
  description = "VPC CIDR (load balancer health checks)."
  type        = string
}

variable "ami_id" {
  description = "Amazon Linux 2023 AMI the instances boot."
  type        = string
}

variable "instance_profile" {
  description = "IAM instance profile of the routers."
  type        = string
}

variable "node_addresses" {
  description = "host:port of every node."
  type        = list(string)
}

variable "ingest_cidrs" {
  description = "Clients allowed to send events (the network load balancer keeps their source address)."
  type        = list(string)
}

variable "artifact_s3_uri" {
  description = "Release tarball."
  type        = string
}

variable "ssh_cidrs" {
  description = "CIDRs allowed to SSH; empty for none."
  type        = list(string)
}

locals {
  port = 8080
}

resource "aws_security_group" "routers" {
  name_prefix = "${var.name}-routers-"
  description = "Floe routers: ingestion from clients through the load balancer"
  vpc_id      = var.vpc_id

  ingress {
    description = "ingestion and health checks"
    from_port   = local.port
    to_port     = local.port
    protocol    = "tcp"
    cidr_blocks = distinct(concat(var.ingest_cidrs, [var.vpc_cidr]))
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
    description = "nodes, package repositories, SSM"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_instance" "router" {
  count                  = var.router_count
  ami                    = var.ami_id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_ids[count.index % length(var.subnet_ids)]
  vpc_security_group_ids = [aws_security_group.routers.id]
  iam_instance_profile   = var.instance_profile
  monitoring             = true

  metadata_options {
    http_tokens   = "required"
    http_endpoint = "enabled"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = 20
    encrypted   = true
  }

  user_data_replace_on_change = true
  user_data = templatefile("${path.module}/user_data.sh.tftpl", {
    region          = var.region
    artifact_s3_uri = var.artifact_s3_uri
    node_addresses  = var.node_addresses
    port            = local.port
  })

  tags = { Name = "${var.name}-router-${count.index}" }
}

output "instance_ids" {
  description = "Router instances."
  value       = aws_instance.router[*].id
}

output "port" {
  description = "Port the routers listen on."
  value       = local.port
}

output "security_group_id" {
  description = "Security group of the routers."
  value       = aws_security_group.routers.id
}
