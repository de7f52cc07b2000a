package io.floe.catalog.maintenance;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

/**
 * Table maintenance's Prometheus metrics, registered in the hosting process's registry: the events
 * table's as {@code floe_maintenance_*}, another table's under its own prefix (the dead-letter
 * table's {@code floe_dead_letter_maintenance_*}), so that existing queries keep one series each.
 */
public final class MaintenanceMetrics {
  /** The events table's metric names start with this. */
  public static final String EVENTS_PREFIX = "floe_maintenance_";

  /** The dead-letter table's metric names start with this. */
  public static final String DEAD_LETTER_PREFIX = "floe_dead_letter_maintenance_";

  private final Counter runs;
  private final Gauge lastSuccess;
  private final Gauge leaseHeld;
  private final Gauge leaseHolder;
  private String shownHolder;
  private final Counter filesCompacted;
  private final Counter filesWritten;
  private final Counter bytesCompacted;
  private final Counter compactionsUnknown;
  private final Counter snapshotsExpired;
  private final Counter orphansRemoved;
  private final Counter orphanSweepsRefused;
  private final Counter manifestsRewritten;
  private final Gauge snapshots;
  private final Gauge dataFiles;
  private final Gauge smallFiles;
  private final Gauge metadataBytes;

  /** The events table's metrics. */
  public MaintenanceMetrics(PrometheusRegistry registry) {
    this(registry, EVENTS_PREFIX);
  }

  /** Metrics whose names start with {@code prefix} (a table other than the events table). */
  public MaintenanceMetrics(PrometheusRegistry registry, String prefix) {
    runs =
        Counter.builder()
            .name(prefix + "runs_total")
            .help(
                "Maintenance tasks run, by task (hygiene, tags, expire, compact, manifests, orphans) and"
                    + " outcome (ok, failed)")
            .labelNames("task", "outcome")
            .register(registry);
    lastSuccess =
        Gauge.builder()
            .name(prefix + "last_success_timestamp_seconds")
            .help("When each maintenance task last succeeded (alarm when it falls behind)")
            .labelNames("task")
            .register(registry);
    leaseHeld =
        Gauge.builder()
            .name(prefix + "lease_held")
            .help(
                "1 while this process holds the table's maintenance lease (exactly one process per table should)")
            .register(registry);
    leaseHolder =
        Gauge.builder()
            .name(prefix + "lease_holder")
            .help(
                "1 for the process the table names as its maintenance lease holder, as this process"
                    + " last read it (the operator console shows it)")
            .labelNames("holder")
            .register(registry);
    filesCompacted =
        Counter.builder()
            .name(prefix + "files_compacted_total")
            .help("Small data files replaced by compaction")
            .register(registry);
    filesWritten =
        Counter.builder()
            .name(prefix + "files_written_total")
            .help("Data files written by compaction")
            .register(registry);
    bytesCompacted =
        Counter.builder()
            .name(prefix + "compacted_bytes")
            .help("Bytes of the data files compaction replaced")
            .unit(Unit.BYTES)
            .register(registry);
    compactionsUnknown =
        Counter.builder()
            .name(prefix + "compactions_unknown_total")
            .help(
                "Compaction commits whose outcome could not be told (their files are kept; the orphan sweep removes them if unreferenced)")
            .register(registry);
    snapshotsExpired =
        Counter.builder()
            .name(prefix + "snapshots_expired_total")
            .help("Snapshots expired")
            .register(registry);
    orphansRemoved =
        Counter.builder()
            .name(prefix + "orphans_removed_total")
            .help(
                "Files no snapshot referenced, removed once older than maintenance.orphan-age-seconds")
            .register(registry);
    orphanSweepsRefused =
        Counter.builder()
            .name(prefix + "orphan_sweeps_refused_total")
            .help(
                "Orphan sweeps that removed nothing because the table's location holds another"
                    + " table's metadata files (a table dropped without purge or renamed)")
            .register(registry);
    manifestsRewritten =
        Counter.builder()
            .name(prefix + "manifests_rewritten_total")
            .help("Manifests replaced by a manifest rewrite")
            .register(registry);
    snapshots =
        Gauge.builder()
            .name(prefix + "table_snapshots")
            .help("Snapshots the table's metadata holds, after the last cycle")
            .register(registry);
    dataFiles =
        Gauge.builder()
            .name(prefix + "table_data_files")
            .help("Data files of the current snapshot, after the last cycle")
            .register(registry);
    smallFiles =
        Gauge.builder()
            .name(prefix + "table_small_files")
            .help(
                "Data files of the current snapshot below the small-file threshold, after the last cycle")
            .register(registry);
    metadataBytes =
        Gauge.builder()
            .name(prefix + "table_metadata_bytes")
            .help("Size of the table's current metadata file (it grows with the snapshot log)")
            .unit(Unit.BYTES)
            .register(registry);
  }

  void ran(String task, boolean ok) {
    runs.labelValues(task, ok ? "ok" : "failed").inc();
    if (ok) {
      lastSuccess.labelValues(task).set(System.currentTimeMillis() / 1000.0);
    }
  }

  void leaseHeld(boolean held) {
    leaseHeld.set(held ? 1 : 0);
  }

  /** The lease holder the table names now (null: none known); one series at a time. */
  synchronized void leaseHolder(String holder) {
    if (holder == null ? shownHolder == null : holder.equals(shownHolder)) {
      return;
    }
    if (shownHolder != null) {
      leaseHolder.remove(shownHolder);
    }
    if (holder != null) {
      leaseHolder.labelValues(holder).set(1);
    }
    shownHolder = holder;
  }

  void compacted(int filesIn, int filesOut, long bytesIn) {
    filesCompacted.inc(filesIn);
    filesWritten.inc(filesOut);
    bytesCompacted.inc(bytesIn);
  }

  void compactionUnknown() {
    compactionsUnknown.inc();
  }

  void expired(int count) {
    snapshotsExpired.inc(count);
  }

  void orphansRemoved(int count) {
    orphansRemoved.inc(count);
  }

  void orphanSweepRefused() {
    orphanSweepsRefused.inc();
  }

  void manifestsRewritten(int count) {
    manifestsRewritten.inc(count);
  }

  void table(int snapshotCount, long dataFileCount, long smallFileCount, long metadataFileBytes) {
    snapshots.set(snapshotCount);
    dataFiles.set(dataFileCount);
    smallFiles.set(smallFileCount);
    metadataBytes.set(metadataFileBytes);
  }
}
