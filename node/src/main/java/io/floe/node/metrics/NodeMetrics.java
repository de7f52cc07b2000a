package io.floe.node.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.DoubleSupplier;

/** The node's Prometheus metrics, in its own registry; names follow Prometheus conventions. */
public final class NodeMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = new PrometheusTextFormatWriter(false);

  {
    // heap, GC, threads, buffer pools, process RSS/CPU: jvm_* and process_* series
    JvmMetrics.builder().register(registry);
  }

  private final Counter eventsAccepted = Counter.builder()
      .name("floe_node_events_accepted_total")
      .help("Events acknowledged after a durable write")
      .register(registry);
  private final Counter bytesAccepted = Counter.builder()
      .name("floe_node_accepted_bytes")
      .help("Request body bytes (after Content-Encoding is undone) of acknowledged requests")
      .unit(Unit.BYTES)
      .register(registry);
  private final Counter requests = Counter.builder()
      .name("floe_node_requests_total")
      .help("HTTP requests answered, by route and status")
      .labelNames("route", "status")
      .register(registry);
  private final Counter rejected = Counter.builder()
      .name("floe_node_requests_rejected_total")
      .help("Ingestion requests refused, by reason")
      .labelNames("reason")
      .register(registry);
  private final Histogram requestDuration = Histogram.builder()
      .name("floe_node_request_duration_seconds")
      .help("Ingestion request latency, from request start to response")
      .unit(Unit.SECONDS)
      .classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
      .register(registry);
  private final Histogram walWrite = Histogram.builder()
      .name("floe_node_wal_write_duration_seconds")
      .help("One group commit: RocksDB WriteBatch write, including the fsync in sync mode")
      .unit(Unit.SECONDS)
      .classicUpperBounds(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
      .register(registry);
  private final Histogram groupRequests = Histogram.builder()
      .name("floe_node_write_group_requests")
      .help("Requests sharing one group commit")
      .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256)
      .register(registry);
  private final Counter groupBytes = Counter.builder()
      .name("floe_node_wal_written_bytes")
      .help("Encoded batch bytes written to RocksDB")
      .unit(Unit.BYTES)
      .register(registry);
  private final Counter walFailures = Counter.builder()
      .name("floe_node_wal_write_failures_total")
      .help("Group commits that failed (their requests were not acknowledged)")
      .register(registry);

  private final Histogram flushDuration = Histogram.builder()
      .name("floe_flush_duration_seconds")
      .help("One flush: read the cut, write and upload Parquet, commit, delete from RocksDB")
      .unit(Unit.SECONDS)
      .classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
      .register(registry);
  private final Counter flushedEvents = Counter.builder()
      .name("floe_flush_events_total")
      .help("Events committed to the table")
      .register(registry);
  private final Counter flushedBufferBytes = Counter.builder()
      .name("floe_flush_buffer_bytes")
      .help("Buffered (encoded) bytes committed to the table")
      .unit(Unit.BYTES)
      .register(registry);
  private final Counter parquetBytes = Counter.builder()
      .name("floe_flush_parquet_bytes")
      .help("Bytes of Parquet files written and committed")
      .unit(Unit.BYTES)
      .register(registry);
  private final Counter files = Counter.builder()
      .name("floe_flush_files_total")
      .help("Data files committed")
      .register(registry);
  private final Counter flushFailures = Counter.builder()
      .name("floe_flush_failures_total")
      .help("Flush attempts that failed and were retried (S3 or catalog unavailable, ...)")
      .register(registry);

  public void flushed(int events, long bufferBytes, int fileCount, long fileBytes, long nanos) {
    flushDuration.observe(nanos / 1e9);
    flushedEvents.inc(events);
    flushedBufferBytes.inc(bufferBytes);
    parquetBytes.inc(fileBytes);
    files.inc(fileCount);
  }

  public void flushFailed() {
    flushFailures.inc();
  }

  /** Registers a gauge read at scrape time, e.g. buffered bytes. */
  public void gauge(String name, String help, DoubleSupplier value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call(value.getAsDouble()))
        .register(registry);
  }

  /** Registers a counter kept elsewhere and read at scrape time, e.g. RocksDB's own statistics. */
  public void counter(String name, String help, DoubleSupplier value) {
    CounterWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call(value.getAsDouble()))
        .register(registry);
  }

  public void accepted(int events, long payloadBytes) {
    eventsAccepted.inc(events);
    bytesAccepted.inc(payloadBytes);
  }

  public void answered(String route, int status, long nanos) {
    requests.labelValues(route, Integer.toString(status)).inc();
    if ("ingest".equals(route)) {
      requestDuration.observe(nanos / 1e9);
    }
  }

  public void rejected(String reason) {
    rejected.labelValues(reason).inc();
  }

  public void groupWritten(int requestCount, long bytes, long nanos) {
    walWrite.observe(nanos / 1e9);
    groupRequests.observe(requestCount);
    groupBytes.inc(bytes);
  }

  public void walWriteFailed() {
    walFailures.inc();
  }

  /** The Prometheus text exposition of every metric. */
  public byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  public static String contentType() {
    return PrometheusTextFormatWriter.CONTENT_TYPE;
  }
}
