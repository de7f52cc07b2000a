terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      # tested with 5.100 (terraform test with a mock provider, terraform validate); the lock file
      # pins the exact build
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = merge({ "floe:cluster" = var.name }, var.tags)
  }
}
