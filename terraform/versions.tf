terraform {
  required_version = ">= 1.6"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.80"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = merge({ "floe:cluster" = var.name }, var.tags)
  }
}
