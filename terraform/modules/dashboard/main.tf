# The cluster's CloudWatch dashboard: the panels of docs/grafana-floe.json over what the instances'
# CloudWatch agents ship (namespace Floe; counters arrive as deltas per 60 s period, so a rate is the
# period's sum / 60). Search expressions pick up every partition and stream, whatever the node count.

variable "name" {
  description = "Cluster name (the ClusterName dimension)."
  type        = string
}

variable "region" {
  description = "AWS region of the metrics."
  type        = string
}

locals {
  period = 60
  node   = "{Floe,ClusterName,Partition,Role} ClusterName=\"${var.name}\" Role=\"node\""
  router = "{Floe,ClusterName,Role} ClusterName=\"${var.name}\" Role=\"router\""
  stream = "{Floe,ClusterName,Role,stream} ClusterName=\"${var.name}\" Role=\"router\""
  table  = "{Floe,ClusterName,Role} ClusterName=\"${var.name}\" Role=\"catalog\""

  # title => (search, statistic, scale applied to each series, unit on the axis)
  panels = [
    { title = "Acknowledged events/s", search = local.node, metric = "floe_node_events_accepted_total", stat = "Sum", scale = "/${local.period}", unit = "events/s" },
    { title = "Acknowledged MB/s", search = local.node, metric = "floe_node_accepted_bytes_total", stat = "Sum", scale = "/${local.period}/1000000", unit = "MB/s" },
    { title = "Ack latency (s)", search = local.node, metric = "floe_node_request_duration_seconds_sum", stat = "Sum", scale = "", unit = "seconds", per = "floe_node_request_duration_seconds_count" },
    { title = "Flush lag (s)", search = local.node, metric = "floe_flush_lag_seconds", stat = "Maximum", scale = "", unit = "seconds" },
    { title = "Commit attempts/s", search = local.node, metric = "floe_commit_attempts_total", stat = "Sum", scale = "/${local.period}", unit = "attempts/s" },
    { title = "Commit retries/s", search = local.node, metric = "floe_commit_retries_total", stat = "Sum", scale = "/${local.period}", unit = "retries/s" },
    { title = "Buffered bytes", search = local.node, metric = "floe_buffer_bytes", stat = "Maximum", scale = "", unit = "bytes" },
    { title = "Nodes ready", search = local.node, metric = "floe_node_ready", stat = "Minimum", scale = "", unit = "ready" },
    { title = "Stream events/s", search = local.stream, metric = "floe_router_stream_events_total", stat = "Sum", scale = "/${local.period}", unit = "events/s" },
    { title = "Stream errors/s", search = local.stream, metric = "floe_router_stream_errors_total", stat = "Sum", scale = "/${local.period}", unit = "errors/s" },
    { title = "Router: healthy nodes", search = local.router, metric = "floe_router_healthy_nodes", stat = "Minimum", scale = "", unit = "nodes" },
    { title = "Table snapshots", search = local.table, metric = "floe_maintenance_table_snapshots", stat = "Maximum", scale = "", unit = "snapshots" },
    { title = "Table data files", search = local.table, metric = "floe_maintenance_table_data_files", stat = "Maximum", scale = "", unit = "files" },
    { title = "Table small files", search = local.table, metric = "floe_maintenance_table_small_files", stat = "Maximum", scale = "", unit = "files" },
    { title = "Table metadata bytes", search = local.table, metric = "floe_maintenance_table_metadata_bytes", stat = "Maximum", scale = "", unit = "bytes" },
    { title = "Maintenance lease held", search = local.table, metric = "floe_maintenance_lease_held", stat = "Maximum", scale = "", unit = "holders" },
    # commit.mode=coordinated: the committer role (only the holder has the committer's own figures)
    { title = "Committer: batch commits/s", search = local.node, metric = "floe_coordinator_commits_total", stat = "Sum", scale = "/${local.period}", unit = "commits/s" },
    { title = "Committer: epoch (a rise: the role moved)", search = local.node, metric = "floe_coordinator_known_epoch", stat = "Maximum", scale = "", unit = "epoch" },
    { title = "Committer: pending hand-overs", search = local.node, metric = "floe_coordinator_pending_handovers", stat = "Maximum", scale = "", unit = "hand-overs" },
    { title = "Hand-over wait (s)", search = local.node, metric = "floe_handover_wait_seconds_sum", stat = "Sum", scale = "", unit = "seconds", per = "floe_handover_wait_seconds_count" },
    { title = "Nodes' own table loads/s", search = local.node, metric = "floe_node_table_reads_total", stat = "Sum", scale = "/${local.period}", unit = "loads/s" },
    { title = "Committer: metadata.json bytes", search = local.node, metric = "floe_table_metadata_bytes", stat = "Maximum", scale = "", unit = "bytes" },
  ]

  # one search per panel; a rate divides each period's sum by the period, the latency panel divides
  # the summed request time by the request count (EMF ships no histogram buckets: Grafana has p99)
  rows = [for p in local.panels : jsondecode(lookup(p, "per", null) != null ? jsonencode([
    [{ id = "total", expression = "SEARCH('${p.search} MetricName=\"${p.metric}\"', 'Sum', ${local.period})", visible = false }],
    [{ id = "count", expression = "SEARCH('${p.search} MetricName=\"${lookup(p, "per", "")}\"', 'Sum', ${local.period})", visible = false }],
    [{ id = "mean", expression = "SUM(total)/SUM(count)", label = "mean over all nodes" }],
    ]) : p.scale == "" ? jsonencode([
    [{ id = "s", expression = "SEARCH('${p.search} MetricName=\"${p.metric}\"', '${p.stat}', ${local.period})" }],
    ]) : jsonencode([
    [{ id = "s", expression = "SEARCH('${p.search} MetricName=\"${p.metric}\"', '${p.stat}', ${local.period})", visible = false }],
    [{ id = "r", expression = "s${p.scale}" }],
  ]))]

  body = {
    widgets = [for i, p in local.panels : {
      type   = "metric"
      x      = (i % 3) * 8
      y      = floor(i / 3) * 6
      width  = 8
      height = 6
      properties = {
        title   = p.title
        region  = var.region
        view    = "timeSeries"
        stacked = false
        period  = local.period
        yAxis   = { left = { label = p.unit, showUnits = false, min = 0 } }
        metrics = local.rows[i]
      }
    }]
  }
}

resource "aws_cloudwatch_dashboard" "cluster" {
  dashboard_name = "${var.name}-floe"
  dashboard_body = jsonencode(local.body)
}

output "name" {
  description = "The CloudWatch dashboard's name."
  value       = aws_cloudwatch_dashboard.cluster.dashboard_name
}

output "panels" {
  description = "The dashboard's panel titles, in order (the same panels as docs/grafana-floe.json)."
  value       = [for p in local.panels : p.title]
}

output "body" {
  description = "The dashboard's JSON body."
  value       = aws_cloudwatch_dashboard.cluster.dashboard_body
}

output "metrics" {
  description = "Every metric name the dashboard reads (each must be shipped by the role that has it)."
  value       = distinct(concat([for p in local.panels : p.metric], compact([for p in local.panels : lookup(p, "per", "")])))
}
