package io.floe.router;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The router's Prometheus metrics; labels are node addresses (few, bounded by membership). */
final class RouterMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final Counter forwarded =
      Counter.builder()
          .name("floe_router_forwarded_requests_total")
          .help("Requests forwarded, by node and the node's status")
          .labelNames("node", "status")
          .register(registry);
  private final Counter errors =
      Counter.builder()
          .name("floe_router_forward_errors_total")
          .help(
              "Forwarding failures, by node and kind (connect: retried elsewhere; after_send: returned to the client)")
          .labelNames("node", "kind")
          .register(registry);
  private final Counter refused =
      Counter.builder()
          .name("floe_router_no_healthy_node_total")
          .help("Requests answered 503 because no node was healthy")
          .register(registry);
  private final Counter throttled =
      Counter.builder()
          .name("floe_router_throttled_total")
          .help(
              "Requests refused with 429 by a token's quotas, by token name and what ran out (events, bytes, concurrency)")
          .labelNames("token", "kind")
          .register(registry);
  private final Histogram latency =
      Histogram.builder()
          .name("floe_router_forward_duration_seconds")
          .help("Time from request start to the node's answer, by node")
          .unit(Unit.SECONDS)
          .labelNames("node")
          .classicUpperBounds(
              0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
          .register(registry);

  private final StreamTraffic streams = new StreamTraffic(registry);

  RouterMetrics(Membership membership) {
    GaugeWithCallback.builder()
        .name("floe_router_healthy_nodes")
        .help("Nodes currently taking requests")
        .callback(cb -> cb.call(membership.healthy().size()))
        .register(registry);
    GaugeWithCallback.builder()
        .name("floe_router_nodes")
        .help("Nodes in the membership")
        .callback(cb -> cb.call(membership.all().size()))
        .register(registry);
  }

  void forwarded(Member m, int status, long nanos) {
    forwarded.labelValues(m.id, Integer.toString(status)).inc();
    latency.labelValues(m.id).observe(nanos / 1e9);
  }

  void throttled(String token, String kind) {
    throttled.labelValues(token, kind).inc();
  }

  void error(Member m, String kind) {
    errors.labelValues(m.id, kind).inc();
  }

  /** Per-stream traffic (also in the console's {@code /v1/cluster}). */
  StreamTraffic streams() {
    return streams;
  }

  void noHealthyNode() {
    refused.inc();
  }

  byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      new PrometheusTextFormatWriter(false).write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
