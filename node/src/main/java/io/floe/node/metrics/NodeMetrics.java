package io.floe.node.metrics;

import io.floe.catalog.commit.BatchCommit;
import io.floe.catalog.commit.CommitCoordinator;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BooleanSupplier;
import java.util.function.DoubleSupplier;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/** The node's Prometheus metrics, in its own registry; names follow Prometheus conventions. */
public final class NodeMetrics {
  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = new PrometheusTextFormatWriter(false);

  {
    // heap, GC, threads, buffer pools, process RSS/CPU: jvm_* and process_* series
    JvmMetrics.builder().register(registry);
  }

  private final Counter eventsAccepted =
      Counter.builder()
          .name("floe_node_events_accepted_total")
          .help("Events acknowledged after a durable write")
          .register(registry);
  private final Counter bytesAccepted =
      Counter.builder()
          .name("floe_node_accepted_bytes")
          .help("Request body bytes (after Content-Encoding is undone) of acknowledged requests")
          .unit(Unit.BYTES)
          .register(registry);
  private final Counter replays =
      Counter.builder()
          .name("floe_node_idempotent_replays_total")
          .help(
              "Requests answered with the acknowledgement of an earlier request with the same Idempotency-Key")
          .register(registry);
  private final Counter requests =
      Counter.builder()
          .name("floe_node_requests_total")
          .help("HTTP requests answered, by route and status")
          .labelNames("route", "status")
          .register(registry);
  private final Counter rejected =
      Counter.builder()
          .name("floe_node_requests_rejected_total")
          .help("Ingestion requests refused, by reason")
          .labelNames("reason")
          .register(registry);
  private final Counter throttled =
      Counter.builder()
          .name("floe_node_throttled_total")
          .help(
              "Ingestion requests refused with 429 by a token's quotas, by token name and what ran out (events, bytes, concurrency)")
          .labelNames("token", "kind")
          .register(registry);
  private final Histogram requestDuration =
      Histogram.builder()
          .name("floe_node_request_duration_seconds")
          .help("Ingestion request latency, from request start to response")
          .unit(Unit.SECONDS)
          .classicUpperBounds(
              0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
          .register(registry);
  private final Histogram eventLoopDelay =
      Histogram.builder()
          .name("floe_node_event_loop_delay_seconds")
          .help(
              "How late a timer on an HTTP event loop ran (sampled every 10 ms per loop): how long a ready request waits for its loop")
          .unit(Unit.SECONDS)
          .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
          .register(registry);
  private final Histogram walWrite =
      Histogram.builder()
          .name("floe_node_wal_write_duration_seconds")
          .help("One group commit: RocksDB WriteBatch write, including the fsync in sync mode")
          .unit(Unit.SECONDS)
          .classicUpperBounds(
              0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)
          .register(registry);
  private final Histogram groupRequests =
      Histogram.builder()
          .name("floe_node_write_group_requests")
          .help("Requests sharing one group commit")
          .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256)
          .register(registry);
  private final Counter groupBytes =
      Counter.builder()
          .name("floe_node_wal_written_bytes")
          .help("Encoded batch bytes written to RocksDB")
          .unit(Unit.BYTES)
          .register(registry);
  private final Counter walFailures =
      Counter.builder()
          .name("floe_node_wal_write_failures_total")
          .help("Group commits that failed (their requests were not acknowledged)")
          .register(registry);

  private final Histogram flushDuration =
      Histogram.builder()
          .name("floe_flush_duration_seconds")
          .help("One flush: read the cut, write and upload Parquet, commit, delete from RocksDB")
          .unit(Unit.SECONDS)
          .classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
          .register(registry);
  private final Counter flushedEvents =
      Counter.builder()
          .name("floe_flush_events_total")
          .help("Events committed to the table")
          .register(registry);
  private final Counter flushedBufferBytes =
      Counter.builder()
          .name("floe_flush_buffer_bytes")
          .help("Buffered (encoded) bytes committed to the table")
          .unit(Unit.BYTES)
          .register(registry);
  private final Counter parquetBytes =
      Counter.builder()
          .name("floe_flush_parquet_bytes")
          .help("Bytes of Parquet files written and committed")
          .unit(Unit.BYTES)
          .register(registry);
  private final Counter files =
      Counter.builder()
          .name("floe_flush_files_total")
          .help("Data files committed")
          .register(registry);
  private final Counter flushFailures =
      Counter.builder()
          .name("floe_flush_failures_total")
          .help("Flush attempts that failed and were retried (S3 or catalog unavailable, ...)")
          .register(registry);

  private final Histogram fileSize =
      Histogram.builder()
          .name("floe_flush_file_size_bytes")
          .help(
              "Size of each Parquet data file a flush wrote (the target is write.target-file-size-bytes; many small"
                  + " files mean flushes cut too early: raise flush.max-age-seconds, or let maintenance compact them)")
          .unit(Unit.BYTES)
          .classicUpperBounds(
              64 << 10, 256 << 10, 1 << 20, 4 << 20, 16 << 20, 32 << 20, 64 << 20, 128 << 20,
              256 << 20, 512 << 20)
          .register(registry);

  private final Counter deadLetters =
      Counter.builder()
          .name("floe_dead_letters_total")
          .help(
              "Records kept as dead letters instead of events (acknowledged, bound for the dead-letter table), by stream and error code")
          .labelNames("stream", "code")
          .register(registry);
  private final Counter columnMismatches =
      Counter.builder()
          .name("floe_column_mismatches_total")
          .help(
              "Values that did not fit their typed column and were written as null (the payload keeps them), by column")
          .labelNames("column")
          .register(registry);
  private final Counter tableReads =
      Counter.builder()
          .name("floe_node_table_reads_total")
          .help(
              "Table loads this node made for itself, by purpose (columns: typed columns and"
                  + " stream policies; claim_check: an idle partition's claim; handover_check: a"
                  + " hand-over without an answer; coordinator_discovery: who holds the committer"
                  + " role; settings: the flusher's table after the table's settings moved); the"
                  + " committer's own loads are not counted. About 0 in a steady"
                  + " coordinated cluster")
          .labelNames("purpose")
          .register(registry);

  {
    // every purpose has a series from the start (a dashboard's rate shows 0, not "no data")
    for (String purpose :
        new String[] {
          "columns", "claim_check", "handover_check", "coordinator_discovery", "settings"
        }) {
      tableReads.labelValues(purpose);
    }
  }

  private final Counter columnRefreshFailures =
      Counter.builder()
          .name("floe_columns_refresh_failures_total")
          .help("Failed reads of the table's typed columns (the last known ones stay in use)")
          .register(registry);

  /**
   * Values of {@code column} written as null because they did not fit its type, in one committed
   * flush.
   */
  private final Counter deadLettersCommitted =
      Counter.builder()
          .name("floe_dead_letters_committed_total")
          .help("Dead letters committed to the dead-letter table")
          .register(registry);

  public void deadLettersFlushed(long rows) {
    deadLettersCommitted.inc(rows);
  }

  /** How many streams get their own dead-letter series; the rest count under {@link #OTHER}. */
  static final int MAX_DEAD_LETTER_STREAMS = 1000;

  /** The stream label of streams past {@link #MAX_DEAD_LETTER_STREAMS}. */
  static final String OTHER = "_other";

  private final Set<String> deadLetterStreams = ConcurrentHashMap.newKeySet();

  /**
   * {@code count} records of {@code stream} acknowledged as dead letters for {@code code}. The
   * first {@link #MAX_DEAD_LETTER_STREAMS} streams get their own series, later ones count as {@code
   * _other}: producers inventing stream names cannot grow the label set without bound.
   */
  public void deadLettered(String stream, String code, long count) {
    String label =
        deadLetterStreams.contains(stream)
                || (deadLetterStreams.size() < MAX_DEAD_LETTER_STREAMS
                    && deadLetterStreams.add(stream))
            ? stream
            : OTHER;
    deadLetters.labelValues(label, code).inc(count);
  }

  public void columnMismatches(String column, long count) {
    columnMismatches.labelValues(column).inc(count);
  }

  /** This node loaded (or refreshed) the table for {@code purpose}. */
  public void tableRead(String purpose) {
    tableReads.labelValues(purpose).inc();
  }

  public void columnRefreshFailed() {
    columnRefreshFailures.inc();
  }

  /** The typed columns this node fills, and when it last read them. */
  public void watchColumns(IntSupplier active, DoubleSupplier refreshedSeconds) {
    gauge(
        "floe_columns_active",
        "Typed columns this node fills (active column mappings)",
        active::getAsInt);
    gauge(
        "floe_columns_refreshed_timestamp_seconds",
        "When this node last read the table's typed columns",
        refreshedSeconds);
  }

  /** One data file written by a flush. */
  public void fileWritten(long bytes) {
    fileSize.observe(bytes);
  }

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

  /** What the buffer's gauges read at scrape time; the RocksDB buffer is one. */
  public interface BufferView {
    long bufferedBytes();

    long bufferedEvents();

    long highWaterMark();

    long committedSequence();

    /** Bytes RocksDB wrote to SST files since it opened (a counter). */
    long sstBytesWritten();
  }

  /** The buffer's and the in-flight budget's gauges. */
  public void watchBuffer(BufferView buffer, LongSupplier inflightBytes) {
    gauge(
        "floe_buffer_bytes",
        "Encoded bytes buffered in RocksDB, not yet committed to the table",
        buffer::bufferedBytes);
    gauge(
        "floe_buffer_events",
        "Events buffered in RocksDB, not yet committed to the table",
        buffer::bufferedEvents);
    gauge("floe_buffer_high_water_mark", "Last sequence written", buffer::highWaterMark);
    gauge(
        "floe_buffer_committed_sequence",
        "Last sequence committed to the table",
        buffer::committedSequence);
    gauge(
        "floe_node_inflight_bytes",
        "Bytes reserved by requests in progress",
        inflightBytes::getAsLong);
    counter(
        "floe_buffer_sst_written_bytes",
        "Bytes RocksDB wrote to SST files (memtable flushes of batches "
            + "not yet committed, and reclaiming compactions)",
        buffer::sstBytesWritten);
  }

  /**
   * How long this process's start-up took, by phase ({@code jvm}, {@code buffer}, {@code join},
   * {@code http}; their sum is the time from the JVM's start to the port being bound).
   */
  public void startedUp(Map<String, Double> secondsByPhase) {
    Gauge g =
        Gauge.builder()
            .name("floe_node_startup_seconds")
            .help("How long this process's start-up took, by phase (jvm, buffer, join, http)")
            .labelNames("phase")
            .register(registry);
    secondsByPhase.forEach((phase, seconds) -> g.labelValues(phase).set(seconds));
  }

  /**
   * 1 while /health/ready answers 200, else 0 (what alarms watch: a node not ready refuses writes
   * or is stuck).
   */
  public void watchReady(BooleanSupplier ready) {
    gauge(
        "floe_node_ready",
        "1 when the node is ready (GET /health/ready answers 200), else 0",
        () -> ready.getAsBoolean() ? 1 : 0);
  }

  /**
   * Open HTTP connections, and those closed at once because {@code http.max-connections} was
   * reached.
   */
  public void watchConnections(IntSupplier open, LongSupplier refused) {
    gauge("floe_node_connections", "Open HTTP connections", open::getAsInt);
    counter(
        "floe_node_connections_refused",
        "HTTP connections closed at once: http.max-connections reached",
        refused::getAsLong);
  }

  /** The flusher's gauges and the commit protocol's counters. */
  public void watchFlush(
      DoubleSupplier lagSeconds,
      IntSupplier uploadConcurrency,
      LongSupplier commitAttempts,
      LongSupplier commitRetries,
      LongSupplier commitFilesMissing) {
    gauge(
        "floe_flush_lag_seconds",
        "Age of the oldest event not yet committed to the table",
        lagSeconds);
    gauge(
        "floe_flush_upload_concurrency",
        "Files the next flush writes and uploads at once",
        uploadConcurrency::getAsInt);
    counter(
        "floe_commit_attempts",
        "Commit attempts, including retries after conflicts with other nodes",
        commitAttempts::getAsLong);
    counter(
        "floe_commit_retries",
        "Commit attempts beyond one per commit: conflicts with other nodes"
            + " committing to the table at the same time, and failed attempts",
        commitRetries::getAsLong);
    counter(
        "floe_commit_files_missing",
        "Commits found landed with their manifest list or manifests deleted: the table needs"
            + " repair, and the node keeps the range",
        commitFilesMissing::getAsLong);
  }

  private final Histogram handoverWait =
      Histogram.builder()
          .name("floe_handover_wait_seconds")
          .help(
              "From handing a written range to the committer to its answer that the table holds it"
                  + " (commit.mode=coordinated), re-sends included")
          .unit(Unit.SECONDS)
          .classicUpperBounds(0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 15, 30, 60)
          .register(registry);
  private final Counter handoverFailures =
      Counter.builder()
          .name("floe_handover_failures_total")
          .help(
              "Hand-overs to the committer that did not end committed at once, by reason (timeout,"
                  + " unreachable, refused, tls, busy, not_coordinator, mismatch, failed, fenced, expired)")
          .labelNames("reason")
          .register(registry);

  /**
   * The committer role's figures while this node holds it ({@code stats} null: it does not, all
   * zero). Registered once.
   */
  public void watchCoordinator(Supplier<CommitCoordinator.Stats> stats, LongSupplier knownEpoch) {
    counter(
        "floe_coordinator_commits",
        "Batch commits this node landed while holding the committer role",
        () -> of(stats, CommitCoordinator.Stats::commits));
    counter(
        "floe_coordinator_commit_attempts",
        "Batch commit attempts (validator runs, Iceberg's retries included) while holding the role",
        () -> of(stats, CommitCoordinator.Stats::attempts));
    gauge(
        "floe_coordinator_partitions_per_commit",
        "Partitions the last batch commit advanced",
        () -> of(stats, CommitCoordinator.Stats::lastPartitionsPerCommit));
    gauge(
        "floe_coordinator_pending_handovers",
        "Hand-overs waiting for the next batch commit",
        () -> of(stats, CommitCoordinator.Stats::pendingHandovers));
    gauge(
        "floe_coordinator_pending_bytes",
        "Bytes of the files of the hand-overs waiting for the next batch commit",
        () -> of(stats, CommitCoordinator.Stats::pendingBytes));
    gauge(
        "floe_coordinator_epoch",
        "The coordinator epoch this node holds the committer role with (0: it does not)",
        () -> of(stats, s -> s.active() ? s.epoch() : 0));
    gauge(
        "floe_coordinator_known_epoch",
        "The newest coordinator epoch this node has seen, held by any node (rising: the role moved)",
        knownEpoch::getAsLong);
    counter(
        "floe_coordinator_expired_handovers",
        "Hand-overs the committer refused or dropped because their files passed"
            + " commit.resend-limit-seconds (their nodes write the ranges anew)",
        () -> of(stats, CommitCoordinator.Stats::expiredHandovers));
    counter(
        "floe_coordinator_view_loads",
        "Table loads the committer made to answer the nodes' claim and settings checks (none while"
            + " it commits at least as often as they ask: its commits keep its view fresh)",
        () -> of(stats, CommitCoordinator.Stats::viewLoads));
    tableGauge(
        "floe_table_metadata_bytes",
        "Size of the table's metadata.json after the committer's last commit (re-measured at most"
            + " every 30 s; only on the node holding the committer role)",
        stats,
        t -> t.metadataBytes());
    tableGauge(
        "floe_table_manifests",
        "Manifests of the table's current snapshot after the committer's last commit (only on the"
            + " node holding the committer role)",
        stats,
        t -> t.manifests());
    tableGauge(
        "floe_table_snapshots",
        "Snapshots the table's metadata keeps after the committer's last commit (only on the node"
            + " holding the committer role)",
        stats,
        t -> t.snapshots());
  }

  /**
   * A gauge of the committer's table, reported only where it is known (the holder, once it
   * commits).
   */
  private void tableGauge(
      String name,
      String help,
      Supplier<CommitCoordinator.Stats> stats,
      ToLongFunction<BatchCommit.TableShape> value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(
            cb -> {
              CommitCoordinator.Stats s = stats.get();
              long v = s == null || !s.active() ? -1 : value.applyAsLong(s.table());
              if (v >= 0) {
                cb.call(v);
              }
            })
        .register(registry);
  }

  private static double of(
      Supplier<CommitCoordinator.Stats> stats, ToDoubleFunction<CommitCoordinator.Stats> value) {
    CommitCoordinator.Stats s = stats.get();
    return s == null ? 0 : value.applyAsDouble(s);
  }

  /** A hand-over answered committed after {@code nanos}. */
  public void handoverWaited(long nanos) {
    handoverWait.observe(nanos / 1e9);
  }

  public void handoverFailed(String reason) {
    handoverFailures.labelValues(reason).inc();
  }

  private void gauge(String name, String help, DoubleSupplier value) {
    GaugeWithCallback.builder()
        .name(name)
        .help(help)
        .callback(cb -> cb.call(value.getAsDouble()))
        .register(registry);
  }

  private void counter(String name, String help, DoubleSupplier value) {
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

  public void eventLoopDelayed(long nanos) {
    eventLoopDelay.observe(nanos / 1e9);
  }

  public void idempotentReplay() {
    replays.inc();
  }

  /**
   * A request refused by the quota of the token named {@code token} ("events" or "bytes" ran out).
   */
  public void throttled(String token, String kind) {
    throttled.labelValues(token, kind).inc();
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
