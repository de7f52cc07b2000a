# The VPC and subnets: an existing VPC when vpc_id is given, else a new one with one private
# subnet per availability zone. Instances never get a public IP: they reach AWS through VPC
# endpoints (an S3 gateway endpoint for table data and the Amazon Linux package repositories,
# interface endpoints for SSM, Secrets Manager, CloudWatch and the chosen catalog), so no NAT
# gateway and no internet route are needed. Public subnets and an internet gateway exist only when
# the load balancer is internet-facing, and only the load balancer lives in them.

variable "name" {
  description = "Cluster name, used in resource names."
  type        = string
}

variable "vpc_id" {
  description = "Existing VPC, or null to create one."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the existing VPC (instances, internal load balancers)."
  type        = list(string)
}

variable "public_subnet_ids" {
  description = "Public subnets of the existing VPC for an internet-facing load balancer."
  type        = list(string)
}

variable "vpc_cidr" {
  description = "CIDR of a created VPC."
  type        = string
}

variable "az_count" {
  description = "Availability zones of a created VPC."
  type        = number
}

variable "public_load_balancer" {
  description = "Whether the ingestion load balancer is internet-facing (adds public subnets to a created VPC)."
  type        = bool
}

variable "create_endpoints" {
  description = "Create the VPC endpoints the instances need; null: only for a created VPC."
  type        = bool
}

variable "catalog_type" {
  description = "floe, glue or s3tables: glue and s3tables add their interface endpoints."
  type        = string
}

locals {
  create    = var.vpc_id == null
  endpoints = coalesce(var.create_endpoints, local.create)
  zones     = slice(sort(data.aws_availability_zones.available.names), 0, local.create ? var.az_count : 0)
  # interface endpoints every instance needs: SSM (Session Manager, Run Command, parameters),
  # Secrets Manager (tokens), CloudWatch Logs and metrics; plus the catalog's own API
  interface_services = toset(concat(
    ["ssm", "ssmmessages", "ec2messages", "secretsmanager", "logs", "monitoring"],
    var.catalog_type == "glue" ? ["glue"] : [],
    var.catalog_type == "s3tables" ? ["s3tables"] : [],
  ))
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_region" "current" {}

data "aws_vpc" "existing" {
  count = local.create ? 0 : 1
  id    = var.vpc_id
}

data "aws_subnet" "existing" {
  for_each = toset(local.create ? [] : var.subnet_ids)
  id       = each.value
}

resource "aws_vpc" "this" {
  count                = local.create ? 1 : 0
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_subnet" "private" {
  count                   = length(local.zones)
  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name}-private-${local.zones[count.index]}" }
}

resource "aws_route_table" "private" {
  count  = local.create ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = { Name = "${var.name}-private" }
}

resource "aws_route_table_association" "private" {
  count          = length(local.zones)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[0].id
}

resource "aws_internet_gateway" "this" {
  count  = local.create && var.public_load_balancer ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  count                   = local.create && var.public_load_balancer ? length(local.zones) : 0
  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, 8 + count.index)
  map_public_ip_on_launch = false
  tags                    = { Name = "${var.name}-public-${local.zones[count.index]}" }
}

resource "aws_route_table" "public" {
  count  = local.create && var.public_load_balancer ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }
  tags = { Name = "${var.name}-public" }
}

resource "aws_route_table_association" "public" {
  count          = length(aws_subnet.public)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_vpc_endpoint" "s3" {
  count             = local.create ? 1 : 0
  vpc_id            = aws_vpc.this[0].id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.private[0].id]
  tags              = { Name = "${var.name}-s3" }
}

resource "aws_security_group" "endpoints" {
  count       = local.endpoints ? 1 : 0
  name_prefix = "${var.name}-endpoints-"
  description = "Interface VPC endpoints: HTTPS from inside the VPC"
  vpc_id      = local.vpc_id

  ingress {
    description = "HTTPS to AWS APIs from the cluster instances"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [local.vpc_cidr]
  }

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = local.endpoints ? local.interface_services : toset([])
  vpc_id              = local.vpc_id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type   = "Interface"
  subnet_ids          = local.subnet_ids
  security_group_ids  = [aws_security_group.endpoints[0].id]
  private_dns_enabled = true
  tags                = { Name = "${var.name}-${each.key}" }
}

locals {
  vpc_id     = local.create ? aws_vpc.this[0].id : var.vpc_id
  vpc_cidr   = local.create ? aws_vpc.this[0].cidr_block : data.aws_vpc.existing[0].cidr_block
  subnet_ids = local.create ? aws_subnet.private[*].id : var.subnet_ids
  # availability zone -> the (first) private subnet in it: a node's volume stays in its zone, and
  # its network interface is placed by the volume's zone, never by list order
  subnet_by_zone = local.create ? zipmap(local.zones, aws_subnet.private[*].id) : {
    for zone, ids in { for s in data.aws_subnet.existing : s.availability_zone => s.id... } : zone => sort(ids)[0]
  }
}

output "vpc_id" {
  description = "The VPC."
  value       = local.vpc_id
}

output "vpc_cidr" {
  description = "The VPC's CIDR block."
  value       = local.vpc_cidr
}

output "subnet_ids" {
  description = "Private subnets for instances and internal load balancers, one per availability zone."
  value       = local.subnet_ids
}

output "subnet_by_zone" {
  description = "Availability zone -> private subnet."
  value       = local.subnet_by_zone
}

output "load_balancer_subnet_ids" {
  description = "Subnets of the ingestion load balancer: public ones when it is internet-facing."
  value = !var.public_load_balancer ? local.subnet_ids : (
    local.create ? aws_subnet.public[*].id : var.public_subnet_ids
  )
}

output "interface_endpoints" {
  description = "Interface endpoints created, by service."
  value       = sort(keys(aws_vpc_endpoint.interface))
}
