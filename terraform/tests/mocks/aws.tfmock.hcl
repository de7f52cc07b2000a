# Values the mock AWS provider returns where a real account would answer: zones, the account,
# an AMI, and the computed attributes the modules read (the rest are random strings).

mock_data "aws_availability_zones" {
  defaults = {
    names = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"]
  }
}

mock_data "aws_caller_identity" {
  defaults = {
    account_id = "123456789012"
  }
}

mock_data "aws_region" {
  defaults = {
    name = "us-east-1"
  }
}

mock_data "aws_ssm_parameter" {
  defaults = {
    value          = "ami-0aaaaaaaaaaaaaaaa"
    insecure_value = "ami-0aaaaaaaaaaaaaaaa"
  }
}

mock_data "aws_vpc" {
  defaults = {
    cidr_block = "10.7.0.0/16"
  }
}

mock_resource "aws_db_instance" {
  defaults = {
    address     = "floe-catalog.abc.us-east-1.rds.amazonaws.com"
    port        = 5432
    resource_id = "db-ABCDEFGHIJKLMNOPQRSTUVWXY"
    master_user_secret = [{
      secret_arn    = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1234-abcdef"
      kms_key_id    = "arn:aws:kms:us-east-1:123456789012:key/1234"
      secret_status = "active"
    }]
  }
}

mock_resource "aws_network_interface" {
  defaults = {
    private_ip = "10.42.1.10"
  }
}

mock_resource "aws_lb" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/floe/0123456789abcdef"
    dns_name   = "floe-0123456789.elb.us-east-1.amazonaws.com"
    arn_suffix = "net/floe/0123456789abcdef"
  }
}

mock_resource "aws_lb_target_group" {
  defaults = {
    arn        = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/floe/0123456789abcdef"
    arn_suffix = "targetgroup/floe/0123456789abcdef"
  }
}

mock_resource "aws_s3_bucket" {
  defaults = {
    arn = "arn:aws:s3:::floe-123456789012-us-east-1"
  }
}

mock_resource "aws_s3tables_table_bucket" {
  defaults = {
    arn = "arn:aws:s3tables:us-east-1:123456789012:bucket/floe-tables"
  }
}

mock_resource "aws_ssm_parameter" {
  defaults = {
    arn = "arn:aws:ssm:us-east-1:123456789012:parameter/floe/floe/x"
  }
}

# the subnets of an "existing VPC" the tests deploy into, one per zone
override_data {
  target = module.network.data.aws_subnet.existing["subnet-0aaaaaaaaaaaaaaaa"]
  values = { availability_zone = "us-east-1a" }
}

override_data {
  target = module.network.data.aws_subnet.existing["subnet-0bbbbbbbbbbbbbbbb"]
  values = { availability_zone = "us-east-1b" }
}

override_data {
  target = module.network.data.aws_subnet.existing["subnet-0cccccccccccccccc"]
  values = { availability_zone = "us-east-1c" }
}

override_data {
  target = module.network.data.aws_subnet.existing["subnet-0dddddddddddddddd"]
  values = { availability_zone = "us-east-1d" }
}
