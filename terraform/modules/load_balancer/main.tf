# A network load balancer in front of the routers: TCP pass-through keeps producers' keep-alive
# connections end to end and scales to many Gbps without per-request processing (see README).

variable "name" {
  description = "Cluster name."
  type        = string
}

variable "vpc_id" {
  description = "VPC to deploy into."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the load balancer (one per availability zone)."
  type        = list(string)
}

variable "router_instance_ids" {
  description = "Router instances to balance over."
  type        = list(string)
}

variable "router_port" {
  description = "Port the routers listen on."
  type        = number
}

variable "tls_certificate_arn" {
  description = "ACM certificate for a TLS listener on 443, or null."
  type        = string
}

variable "internal" {
  description = "Internal (VPC-only) load balancer, or internet-facing."
  type        = bool
}

variable "alarm_actions" {
  description = "SNS topics the unhealthy-hosts alarm notifies."
  type        = list(string)
}

resource "aws_lb" "this" {
  name_prefix                      = substr(replace(var.name, "-", ""), 0, 6)
  load_balancer_type               = "network"
  internal                         = var.internal
  subnets                          = var.subnet_ids
  enable_cross_zone_load_balancing = true
}

resource "aws_lb_target_group" "routers" {
  name_prefix          = substr(replace(var.name, "-", ""), 0, 6)
  port                 = var.router_port
  protocol             = "TCP"
  vpc_id               = var.vpc_id
  target_type          = "instance"
  deregistration_delay = 30

  health_check {
    protocol            = "HTTP"
    path                = "/health/ready"
    port                = "traffic-port"
    interval            = 10
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_target_group_attachment" "routers" {
  count            = length(var.router_instance_ids)
  target_group_arn = aws_lb_target_group.routers.arn
  target_id        = var.router_instance_ids[count.index]
  port             = var.router_port
}

# plaintext only when there is no certificate: with one, producers get TLS on 443 and nothing on 80
# (a network load balancer cannot redirect)
resource "aws_lb_listener" "tcp" {
  count             = var.tls_certificate_arn == null ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "TCP"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.routers.arn
  }
}

resource "aws_lb_listener" "tls" {
  count             = var.tls_certificate_arn == null ? 0 : 1
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "TLS"
  certificate_arn   = var.tls_certificate_arn
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.routers.arn
  }
}

resource "aws_cloudwatch_metric_alarm" "unhealthy_routers" {
  alarm_name          = "${var.name}-routers-unhealthy"
  alarm_description   = "A router behind the ingestion load balancer fails its /health/ready check (no healthy node, draining, or down)."
  namespace           = "AWS/NetworkELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = aws_lb.this.arn_suffix, TargetGroup = aws_lb_target_group.routers.arn_suffix }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
}

output "url" {
  description = "Ingestion endpoint: https on 443 when a certificate was given, else plain http on 80."
  value       = var.tls_certificate_arn == null ? "http://${aws_lb.this.dns_name}" : "https://${aws_lb.this.dns_name}"
}

output "listener_ports" {
  description = "Ports the load balancer listens on."
  value       = var.tls_certificate_arn == null ? [80] : [443]
}

output "target_group_arn" {
  description = "Target group of the routers (scripts/rolling-update drains a router through it)."
  value       = aws_lb_target_group.routers.arn
}

output "dns_name" {
  description = "DNS name of the load balancer."
  value       = aws_lb.this.dns_name
}
