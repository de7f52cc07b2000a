# The VPC and subnets: an existing VPC when vpc_id is given, else a new one with one public subnet
# per availability zone, an internet gateway (for SSM and package installs) and an S3 gateway
# endpoint (table data never crosses the internet gateway).

variable "name" {
  description = "Cluster name, used in resource names."
  type        = string
}

variable "vpc_id" {
  description = "Existing VPC, or null to create one."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the existing VPC."
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

locals {
  create = var.vpc_id == null
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_region" "current" {}

data "aws_vpc" "existing" {
  count = local.create ? 0 : 1
  id    = var.vpc_id
}

resource "aws_vpc" "this" {
  count                = local.create ? 1 : 0
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_internet_gateway" "this" {
  count  = local.create ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  tags   = { Name = var.name }
}

resource "aws_subnet" "public" {
  count                   = local.create ? var.az_count : 0
  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = data.aws_availability_zones.available.names[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 4, count.index)
  map_public_ip_on_launch = true
  tags                    = { Name = "${var.name}-${data.aws_availability_zones.available.names[count.index]}" }
}

resource "aws_route_table" "public" {
  count  = local.create ? 1 : 0
  vpc_id = aws_vpc.this[0].id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.this[0].id
  }
  tags = { Name = var.name }
}

resource "aws_route_table_association" "public" {
  count          = local.create ? var.az_count : 0
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public[0].id
}

resource "aws_vpc_endpoint" "s3" {
  count             = local.create ? 1 : 0
  vpc_id            = aws_vpc.this[0].id
  service_name      = "com.amazonaws.${data.aws_region.current.name}.s3"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [aws_route_table.public[0].id]
  tags              = { Name = "${var.name}-s3" }
}

output "vpc_id" {
  description = "The VPC."
  value       = local.create ? aws_vpc.this[0].id : var.vpc_id
}

output "vpc_cidr" {
  description = "The VPC's CIDR block."
  value       = local.create ? aws_vpc.this[0].cidr_block : data.aws_vpc.existing[0].cidr_block
}

output "subnet_ids" {
  description = "Subnets to place instances and the load balancer in, one per availability zone."
  value       = local.create ? aws_subnet.public[*].id : var.subnet_ids
}
