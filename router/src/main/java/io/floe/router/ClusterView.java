package io.floe.router;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The cluster as {@code /v1/cluster} answers it, built from one sample at a time ({@link
 * ClusterSampler}): nodes with their readiness, buffer, throughput and commit state; streams with
 * their traffic; the table's health as the catalog service reports it; what needs attention first;
 * and the charts' series over the last 15 minutes. Rates are the difference of two samples'
 * counters over the time between them (a counter that went down, a restarted node, counts from
 * zero). The answer names nodes and the catalog by address and never carries a token.
 */
final class ClusterView {
  /** The answer's format version: fields are added, never renamed. */
  static final int VERSION = 1;

  /** Flush lag above which a node needs attention. */
  static final double LAG_WARNING_SECONDS = 60;

  /** Buffer fill above which a node needs attention. */
  static final double FILL_WARNING = 0.8;

  private final StreamTraffic traffic;
  private final String catalogUri;
  private final int maxPoints;

  /** Each node's previous sample, by node id. */
  private final Map<String, Previous> previous = new HashMap<>();

  private long previousTrafficAt;
  private Map<String, long[]> previousTraffic = Map.of();
  private final ArrayDeque<JsonObject> points = new ArrayDeque<>();

  /** Cumulative file-size buckets of every node at each retained point, for the median. */
  private final ArrayDeque<TreeMap<Double, Double>> fileSizes = new ArrayDeque<>();

  private volatile Buffer answer;

  private record Previous(long atMillis, PromText metrics) {}

  ClusterView(StreamTraffic traffic, String catalogUri, int maxPoints) {
    this.traffic = traffic;
    this.catalogUri = catalogUri;
    this.maxPoints = maxPoints;
    this.answer =
        new JsonObject()
            .put("version", VERSION)
            .put("status", "unknown")
            .put("attention", new JsonArray().add(attention("warning", "router", "no sample yet")))
            .put("nodes", new JsonArray())
            .put("streams", new JsonArray())
            .toBuffer();
  }

  Buffer answer() {
    return answer;
  }

  /** Sampling is off: the answer says why, and stays so. */
  void off(String why) {
    answer =
        new JsonObject()
            .put("version", VERSION)
            .put("status", "unknown")
            .put("attention", new JsonArray().add(attention("warning", "router", why)))
            .put("nodes", new JsonArray())
            .put("streams", new JsonArray())
            .toBuffer();
  }

  synchronized void add(
      long now, List<ClusterSampler.NodeReading> readings, ClusterSampler.CatalogReading catalog) {
    JsonArray attention = new JsonArray();
    JsonArray nodes = new JsonArray();
    double events = 0;
    double bytes = 0;
    double commits = 0;
    double lag = 0;
    boolean anyRate = false;
    TreeMap<Double, Double> ackNow = new TreeMap<>();
    TreeMap<Double, Double> ackBefore = new TreeMap<>();
    TreeMap<Double, Double> sizes = new TreeMap<>();
    int columnsActive = -1;
    Map<String, Double> deadLetters = null;
    for (ClusterSampler.NodeReading r : readings) {
      JsonObject node = node(r, attention);
      Previous before = previous.get(r.member().id);
      if (r.metrics() != null) {
        if (before != null) {
          double seconds = Math.max(0.001, (now - before.atMillis) / 1000.0);
          double e = rate(r.metrics(), before.metrics, "floe_node_events_accepted", seconds);
          double b = rate(r.metrics(), before.metrics, "floe_node_accepted_bytes", seconds);
          double c = rate(r.metrics(), before.metrics, "floe_commit_attempts", seconds);
          node.put("events_per_second", round(e))
              .put("mb_per_second", round(b / 1e6))
              .put("commit_attempts_per_second", round(c));
          events += e;
          bytes += b;
          commits += c;
          anyRate = true;
          merge(ackBefore, before.metrics.buckets("floe_node_request_duration_seconds"));
          merge(ackNow, r.metrics().buckets("floe_node_request_duration_seconds"));
        }
        node.put("commit_attempts_total", number(counter(r.metrics(), "floe_commit_attempts")))
            .put("commit_retries_total", number(counter(r.metrics(), "floe_commit_retries")));
        merge(sizes, r.metrics().buckets("floe_flush_file_size_bytes"));
        for (PromText.Sample d : r.metrics().all("floe_dead_letters_total")) {
          deadLetters = deadLetters == null ? new HashMap<>() : deadLetters;
          deadLetters.merge(d.labels().getOrDefault("stream", "?"), d.value(), Double::sum);
        }
        double active = r.metrics().sum("floe_columns_active");
        if (!Double.isNaN(active)) {
          columnsActive = Math.max(columnsActive, (int) active);
        }
        previous.put(r.member().id, new Previous(now, r.metrics()));
      } else {
        previous.remove(r.member().id);
      }
      Double nodeLag = node.getDouble("flush_lag_seconds");
      if (nodeLag != null) {
        lag = Math.max(lag, nodeLag);
      }
      nodes.add(node);
    }
    previous.keySet().retainAll(readings.stream().map(r -> r.member().id).toList());

    double p99 = PromText.quantile(0.99, ackNow, ackBefore);
    JsonObject point =
        new JsonObject()
            .put("t", now)
            .put("events_per_second", anyRate ? round(events) : null)
            .put("mb_per_second", anyRate ? round(bytes / 1e6) : null)
            .put("ack_p99_ms", Double.isNaN(p99) ? null : round(p99 * 1000))
            .put("flush_lag_seconds", round(lag))
            .put("commit_attempts_per_second", anyRate ? round(commits) : null);
    points.addLast(point);
    fileSizes.addLast(sizes);
    while (points.size() > maxPoints) {
      points.removeFirst();
      fileSizes.removeFirst();
    }

    JsonArray streams = streams(now, deadLetters);
    JsonObject table = table(catalog, columnsActive, attention);
    attention = worstFirst(attention);
    JsonObject out =
        new JsonObject()
            .put("version", VERSION)
            .put("sampled_at", Instant.ofEpochMilli(now).toString())
            .put("status", status(attention))
            .put("attention", attention)
            .put("nodes", nodes)
            .put("streams", streams)
            .put("table", table)
            .put("series", series());
    answer = out.toBuffer();
  }

  private JsonObject node(ClusterSampler.NodeReading r, JsonArray attention) {
    Member m = r.member();
    JsonObject node =
        new JsonObject()
            .put("node", m.id)
            .put("partition_id", m.partition < 0 ? null : m.partition)
            .put("routed", m.healthy())
            .put("inflight", m.inflight.get())
            .put("reachable", r.status() != null);
    JsonObject s = r.status();
    if (s == null) {
      node.put("ready", false).put("reason", "unreachable").put("error", r.error());
      attention.add(
          attention("critical", m.id, "not reachable: " + r.error() + "; it takes no events"));
      return node;
    }
    boolean ready = s.getBoolean("ready", false);
    String reason = s.getString("not_ready_reason");
    long bufferBytes = s.getLong("buffered_bytes", 0L);
    long maxBytes = s.getLong("buffer_max_bytes", 0L);
    double fill = maxBytes > 0 ? (double) bufferBytes / maxBytes : 0;
    JsonObject flush = s.getJsonObject("flush");
    boolean salvage = s.getBoolean("salvage_needed", "salvage_needed".equals(reason));
    node.put("partition_id", s.getInteger("partition_id", m.partition < 0 ? null : m.partition))
        .put("ready", ready)
        .put("reason", reason)
        .put("epoch", s.getLong("epoch"))
        .put("durability", s.getString("durability"))
        .put("buffered_events", s.getLong("buffered_events"))
        .put("buffer_bytes", bufferBytes)
        .put("buffer_max_bytes", maxBytes)
        .put("buffer_fill", round(fill))
        .put("high_water_mark", s.getLong("high_water_mark"))
        .put("committed_sequence", s.getLong("committed_sequence"))
        .put("idempotency_keys", s.getLong("idempotency_keys"))
        .put("salvage_needed", salvage)
        .put("table_joined", s.getBoolean("table_joined", false));
    if (flush != null) {
      node.put("flush_lag_seconds", flush.getDouble("lag_seconds"))
          .put("last_commit", flush.getString("last_commit"))
          .put("last_commit_snapshot", flush.getLong("last_commit_snapshot"))
          .put("flush_failures", flush.getInteger("consecutive_failures", 0))
          .put("last_error", flush.getString("last_error"))
          .put("fenced", flush.getBoolean("fenced", false));
    }
    if (r.metrics() == null && r.error() != null) {
      node.put("error", r.error());
    }
    if (!ready) {
      attention.add(attention("critical", m.id, "not ready: " + reason));
    }
    if (salvage && !"salvage_needed".equals(reason)) {
      attention.add(attention("critical", m.id, "holds events that need salvage"));
    }
    if (flush != null && flush.getInteger("consecutive_failures", 0) > 0) {
      attention.add(
          attention(
              "warning",
              m.id,
              flush.getInteger("consecutive_failures")
                  + " flushes failed in a row: "
                  + flush.getString("last_error")));
    }
    if (flush != null && flush.getDouble("lag_seconds", 0.0) > LAG_WARNING_SECONDS) {
      attention.add(
          attention(
              "warning",
              m.id,
              "flush lag " + Math.round(flush.getDouble("lag_seconds")) + " s (events wait)"));
    }
    if (fill > FILL_WARNING) {
      attention.add(
          attention(
              "warning", m.id, "buffer " + Math.round(fill * 100) + "% full (buffer.max-bytes)"));
    }
    if (ready && !m.healthy()) {
      attention.add(attention("warning", m.id, "ready, but this router has not put it back yet"));
    }
    return node;
  }

  /**
   * @param deadLetters the nodes' dead letters per stream (every code), or null when no node
   *     reports them
   */
  private JsonArray streams(long now, Map<String, Double> deadLetters) {
    Map<String, long[]> counts = traffic.snapshot();
    double seconds = previousTrafficAt == 0 ? 0 : (now - previousTrafficAt) / 1000.0;
    JsonArray out = new JsonArray();
    counts.forEach(
        (name, c) -> {
          long[] before = previousTraffic.getOrDefault(name, new long[4]);
          JsonObject s =
              new JsonObject()
                  .put("stream", name)
                  .put("events_total", c[0])
                  .put("bytes_total", c[1])
                  .put("requests_total", c[2])
                  .put("errors_total", c[3])
                  .put(
                      "dead_letters_total",
                      deadLetters == null ? null : Math.round(deadLetters.getOrDefault(name, 0.0)));
          if (seconds > 0) {
            s.put("events_per_second", round((c[0] - before[0]) / seconds))
                .put("bytes_per_second", round((c[1] - before[1]) / seconds))
                .put("errors_per_second", round((c[3] - before[3]) / seconds));
          }
          out.add(s);
        });
    previousTraffic = counts;
    previousTrafficAt = now;
    return out;
  }

  private JsonObject table(
      ClusterSampler.CatalogReading catalog, int columnsActive, JsonArray attention) {
    JsonObject table = new JsonObject().put("catalog", catalogUri);
    double median = PromText.quantile(0.5, fileSizes.getLast(), fileSizes.getFirst());
    double files =
        fileSizes.getLast().isEmpty()
            ? 0
            : fileSizes.getLast().lastEntry().getValue()
                - (fileSizes.getFirst().isEmpty()
                    ? 0
                    : fileSizes.getFirst().lastEntry().getValue());
    table
        .put("files_flushed_recently", Math.max(0, Math.round(files)))
        .put("median_file_bytes_recently", Double.isNaN(median) ? null : Math.round(median))
        .put("columns_active", columnsActive < 0 ? null : columnsActive);
    if (catalogUri == null) {
      return table.put("reachable", false).put("error", RouterConfig.CATALOG_URI + " is not set");
    }
    PromText m = catalog.metrics();
    if (m == null) {
      attention.add(attention("warning", "catalog", "not readable: " + catalog.error()));
      return table.put("reachable", false).put("error", catalog.error());
    }
    table
        .put("reachable", true)
        .put("snapshots", number(m.sum("floe_maintenance_table_snapshots")))
        .put("data_files", number(m.sum("floe_maintenance_table_data_files")))
        .put("small_files", number(m.sum("floe_maintenance_table_small_files")))
        .put("metadata_bytes", number(m.sum("floe_maintenance_table_metadata_bytes")));
    JsonObject maintenance =
        new JsonObject()
            .put("lease_held_by_this_catalog", m.sum("floe_maintenance_lease_held") >= 1);
    String holder = null;
    for (PromText.Sample s : m.all("floe_maintenance_lease_holder")) {
      if (s.value() >= 1) {
        holder = s.labels().get("holder");
      }
    }
    maintenance.put("lease_holder", holder);
    JsonObject last = new JsonObject();
    double newest = 0;
    for (PromText.Sample s : m.all("floe_maintenance_last_success_timestamp_seconds")) {
      String task = s.labels().get("task");
      if (task != null && s.value() > 0) {
        last.put(task, Instant.ofEpochMilli((long) (s.value() * 1000)).toString());
        newest = Math.max(newest, s.value());
      }
    }
    long failed = 0;
    for (PromText.Sample s : m.all("floe_maintenance_runs_total")) {
      if ("failed".equals(s.labels().get("outcome"))) {
        failed += (long) s.value();
      }
    }
    maintenance
        .put(
            "last_run", newest > 0 ? Instant.ofEpochMilli((long) (newest * 1000)).toString() : null)
        .put("last_success", last)
        .put("failed_runs_total", failed);
    table.put("maintenance", maintenance);
    if (catalog.columns() != null) {
      JsonArray cols = new JsonArray();
      for (Object o : catalog.columns()) {
        if (o instanceof JsonObject c) {
          cols.add(
              new JsonObject()
                  .put("name", c.getString("name"))
                  .put("type", c.getString("type"))
                  .put("path", c.getString("path"))
                  .put("on_mismatch", c.getString("on_mismatch")));
        }
      }
      table.put("columns", cols);
    }
    return table;
  }

  private JsonObject series() {
    JsonObject series = new JsonObject();
    for (String key :
        List.of(
            "t",
            "events_per_second",
            "mb_per_second",
            "ack_p99_ms",
            "flush_lag_seconds",
            "commit_attempts_per_second")) {
      JsonArray values = new JsonArray();
      for (JsonObject p : points) {
        values.add(p.getValue(key));
      }
      series.put(key, values);
    }
    return series;
  }

  /** Critical items before warnings, each kind in the order found (nodes in membership order). */
  private static JsonArray worstFirst(JsonArray attention) {
    JsonArray out = new JsonArray();
    for (String level : List.of("critical", "warning")) {
      for (Object o : attention) {
        if (level.equals(((JsonObject) o).getString("level"))) {
          out.add(o);
        }
      }
    }
    return out;
  }

  private static String status(JsonArray attention) {
    String status = "ok";
    for (Object o : attention) {
      String level = ((JsonObject) o).getString("level");
      if ("critical".equals(level)) {
        return "critical";
      }
      status = "warning";
    }
    return status;
  }

  private static JsonObject attention(String level, String subject, String message) {
    return new JsonObject().put("level", level).put("subject", subject).put("message", message);
  }

  /** A counter's value, whether the exposition names it with {@code _total} or not. */
  private static double counter(PromText m, String name) {
    double v = m.sum(name + "_total");
    return Double.isNaN(v) ? m.sum(name) : v;
  }

  private static double rate(PromText now, PromText before, String name, double seconds) {
    double a = counter(now, name);
    double b = counter(before, name);
    if (Double.isNaN(a)) {
      return 0;
    }
    double delta = Double.isNaN(b) || a < b ? a : a - b;
    return delta / seconds;
  }

  private static void merge(TreeMap<Double, Double> into, TreeMap<Double, Double> from) {
    from.forEach((k, v) -> into.merge(k, v, Double::sum));
  }

  private static Double number(double v) {
    return Double.isNaN(v) ? null : v;
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }
}
