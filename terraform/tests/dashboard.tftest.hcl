# The CloudWatch dashboard: one per cluster, the panels of docs/grafana-floe.json, each reading a
# metric that the role which has it ships (the instances' CloudWatch agent configuration).

mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  artifact_s3_uri = "s3://floe-artifacts/releases/floe-0.1.0.tar.gz"
  node_count      = 3
  catalog_type    = "floe"
}

run "dashboard" {
  command = apply

  assert {
    condition     = output.dashboard_name == "${var.name}-floe"
    error_message = "one dashboard named after the cluster"
  }

  assert {
    condition = output.dashboard_panels == [
      "Acknowledged events/s", "Acknowledged MB/s", "Ack latency (s)", "Flush lag (s)",
      "Commit attempts/s", "Commit retries/s", "Buffered bytes", "Nodes ready",
      "Stream events/s", "Stream errors/s", "Router: healthy nodes", "Table snapshots",
      "Table data files", "Table small files", "Table metadata bytes", "Maintenance lease held",
      "Committer: batch commits/s", "Committer: epoch (a rise: the role moved)",
      "Committer: pending hand-overs", "Hand-over wait (s)", "Nodes' own table loads/s",
      "Committer: metadata.json bytes",
    ]
    error_message = "the Grafana dashboard's panels, in its order"
  }

  assert {
    condition = alltrue([for m in module.dashboard.metrics : anytrue([
      for ud in concat(module.nodes.user_data, [module.routers.user_data, module.catalog.user_data]) : strcontains(ud, "\"^${m}$\"")
    ])])
    error_message = "every metric the dashboard reads is shipped to CloudWatch by its role"
  }

  assert {
    condition     = strcontains(module.routers.user_data, "\"stream\"")
    error_message = "the routers ship per-stream traffic with the stream as a dimension"
  }

  assert {
    condition = alltrue([for w in jsondecode(module.dashboard.body).widgets : alltrue([
      for row in w.properties.metrics : alltrue([for e in row : strcontains(e.expression, "ClusterName=\"${var.name}\"") || !strcontains(e.expression, "SEARCH")])
    ])])
    error_message = "every panel searches this cluster's metrics only"
  }
}
