package io.floe.catalog.maintenance;

import io.floe.catalog.commit.RefusalCheckingOperations;
import io.floe.catalog.table.FloeTableKeys;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.ExpireSnapshots;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a Floe table (the events table, the dead-letter table) healthy, one cycle every {@code
 * maintenance.interval-seconds} in the process that holds the table's maintenance lease: tag each
 * hour's snapshot and expire snapshots beyond the retention or the count bound (the nodes' recovery
 * state, {@code floe.partition.*}, lives in the table properties and survives), compact closed time
 * partitions, rewrite manifests when the current snapshot has too many, and now and then remove
 * orphan files. Each task fails on its own (logged, counted) without stopping the others.
 */
public final class TableMaintenance implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TableMaintenance.class);

  private final Supplier<Table> table;
  private final MaintenanceConfig config;
  private final MaintenanceMetrics metrics;
  private final Clock clock;
  private final MaintenanceLease lease;
  private final Compactor compactor;
  private final OrphanSweeper orphans = new OrphanSweeper();
  private final SnapshotRetention retention;
  private final ScheduledExecutorService scheduler =
      Executors.newSingleThreadScheduledExecutor(
          r -> {
            Thread t = new Thread(r, "floe-maintenance");
            t.setDaemon(true);
            return t;
          });
  private volatile long lastOrphanSweep;
  private volatile boolean held;

  /** A cycle's outcome, for tests and logs. */
  public record Cycle(
      boolean held,
      int expired,
      int groups,
      int filesIn,
      int filesOut,
      int orphansRemoved,
      int manifestsRewritten) {}

  /**
   * @param table loads the table (null while it does not exist yet: nodes create it)
   */
  public TableMaintenance(
      Supplier<Table> table, MaintenanceConfig config, MaintenanceMetrics metrics, Clock clock) {
    this.table = table;
    this.config = config;
    this.metrics = metrics;
    this.clock = clock;
    this.lease = new MaintenanceLease(config.holder(), config.lease().toMillis());
    this.compactor = new Compactor(config.smallFilePercent());
    this.retention = new SnapshotRetention(config.snapshotRetention(), config.maxSnapshots());
  }

  /** Runs a cycle now and then every interval, on its own thread. */
  public TableMaintenance start() {
    scheduler.scheduleWithFixedDelay(
        () -> {
          try {
            runOnce();
          } catch (RuntimeException e) {
            LOG.error("table maintenance cycle failed", e);
          }
        },
        0,
        config.interval().toMillis(),
        TimeUnit.MILLISECONDS);
    LOG.info(
        "table maintenance as '{}': every {} s, snapshots kept {} s (at least {}, at most {} and an"
            + " hourly tag), partitions compacted {} s after their end, orphans removed after {} s",
        config.holder(),
        config.interval().toSeconds(),
        config.snapshotRetention().toSeconds(),
        config.minSnapshots(),
        config.maxSnapshots(),
        config.compactAfter().toSeconds(),
        config.orphanAge().toSeconds());
    return this;
  }

  /** One cycle, if this process holds (or can take) the lease. */
  public Cycle runOnce() {
    Table loaded;
    try {
      loaded = table.get();
    } catch (RuntimeException e) {
      LOG.warn("table maintenance: cannot load the table: {}", e.toString());
      return new Cycle(false, 0, 0, 0, 0, 0, 0);
    }
    if (loaded == null) {
      return new Cycle(false, 0, 0, 0, 0, 0, 0);
    }
    // a rewrite answered 409 after it landed must not be retried (Iceberg would move main back to
    // it) nor cleaned up: read the table before acting on a refusal
    Table t = RefusalCheckingOperations.guard(loaded);
    boolean nowHeld;
    try {
      nowHeld = lease.acquire(t, clock.millis());
    } catch (RuntimeException e) {
      LOG.warn("table maintenance: cannot take or renew the lease: {}", e.toString());
      nowHeld = false;
    }
    if (nowHeld != held) {
      LOG.info(
          nowHeld
              ? "table maintenance: this process ({}) holds the lease"
              : "table maintenance: {} does not hold"
                  + " the lease (another process maintains the table)",
          config.holder());
      held = nowHeld;
    }
    metrics.leaseHeld(nowHeld);
    metrics.leaseHolder(lease.seenHolder());
    if (!nowHeld) {
      return new Cycle(false, 0, 0, 0, 0, 0, 0);
    }
    task("hygiene", () -> hygiene(t), 0);
    // without this cycle's tags, the count bound could expire an hour's only snapshot
    boolean tagged = task("tags", () -> retention.tagHours(t, clock.millis()), -1) >= 0;
    int expired = task("expire", () -> expire(t, tagged), 0);
    Compacted compacted = task("compact", () -> compact(t), new Compacted(0, 0, 0));
    int manifests = task("manifests", () -> rewriteManifests(t), 0);
    int removed = 0;
    long now = clock.millis();
    if (now - lastOrphanSweep >= config.orphanInterval().toMillis() && OrphanSweeper.supported(t)) {
      removed =
          task(
              "orphans",
              () -> {
                OrphanSweeper.Sweep s =
                    orphans.sweep(t, clock.millis() - config.orphanAge().toMillis());
                if (s.refused()) {
                  refuseSweep(t, s);
                }
                metrics.orphansRemoved(s.removed());
                if (s.removed() > 0) {
                  LOG.info(
                      "table maintenance: removed {} orphan files of {} listed",
                      s.removed(),
                      s.listed());
                }
                return s.removed();
              },
              0);
      lastOrphanSweep = now;
    }
    observe(t);
    return new Cycle(
        true,
        expired,
        compacted.groups(),
        compacted.filesIn(),
        compacted.filesOut(),
        removed,
        manifests);
  }

  /** Runs one task, counting its outcome; a failure is logged and answers {@code failed}. */
  private <T> T task(String name, Callable<T> task, T failed) {
    try {
      T result = task.call();
      metrics.ran(name, true);
      return result;
    } catch (Exception e) {
      metrics.ran(name, false);
      LOG.warn("table maintenance: {} failed: {}", name, e.toString());
      return failed;
    }
  }

  private record Compacted(int groups, int filesIn, int filesOut) {}

  /** Says loudly why the sweep removed nothing, counts it, and fails the task. */
  private void refuseSweep(Table t, OrphanSweeper.Sweep s) {
    metrics.orphanSweepRefused();
    LOG.error(
        "table maintenance: the orphan sweep removed nothing: the location {} of table {} (uuid {})"
            + " holds {}, a metadata file of another table ({}), likely one dropped without purge or"
            + " renamed that this table was created over; every file of that table would look like"
            + " an orphan here. Purge that table, or move its files away, and the sweep resumes",
        t.location(),
        t.name(),
        t.uuid(),
        s.foreignMetadata(),
        s.foreignUuid() == null ? "unreadable, or no table uuid" : "uuid " + s.foreignUuid());
    throw new IllegalStateException(
        "orphan sweep refused: " + s.foreignMetadata() + " is another table's metadata file");
  }

  /**
   * Expires what {@link SnapshotRetention} does not keep; the count bound only when this cycle's
   * hourly tags were made ({@code bounded}).
   */
  private int expire(Table t, boolean bounded) {
    t.refresh();
    int before = size(t.snapshots());
    ExpireSnapshots expiry =
        t.expireSnapshots()
            .expireOlderThan(retention.expireBefore(t, clock.millis(), bounded))
            .retainLast(config.minSnapshots())
            .cleanExpiredFiles(true);
    if (expiry.apply().isEmpty()) {
      return 0;
    }
    expiry.commit();
    t.refresh();
    int expired = Math.max(0, before - size(t.snapshots()));
    metrics.expired(expired);
    if (expired > 0) {
      LOG.info("table maintenance: expired {} snapshots ({} kept)", expired, before - expired);
    }
    return expired;
  }

  private Compacted compact(Table t) throws IOException {
    t.refresh();
    Snapshot planned = t.currentSnapshot();
    List<Compactor.Group> groups =
        compactor.plan(t, planned, clock.millis() - config.compactAfter().toMillis());
    int done = 0;
    int in = 0;
    int out = 0;
    for (Compactor.Group g : groups) {
      if (!lease.held(t, clock.millis())) {
        LOG.warn("table maintenance: lost the lease during compaction; stopping");
        break;
      }
      List<DataFile> written = compactor.write(t, g);
      try {
        compactor.commit(t, g, written, planned.snapshotId());
      } catch (CommitStateUnknownException e) {
        metrics.compactionUnknown();
        LOG.warn(
            "table maintenance: cannot tell whether the compaction of partition {} landed; its {}"
                + " new files are kept (the orphan sweep removes them if no snapshot references them)",
            g.partitionPath(),
            written.size());
        throw e;
      }
      metrics.compacted(g.files().size(), written.size(), g.bytes());
      done++;
      in += g.files().size();
      out += written.size();
      LOG.info(
          "table maintenance: compacted {} files ({} bytes) of partition {} into {}",
          g.files().size(),
          g.bytes(),
          g.partitionPath(),
          written.size());
    }
    return new Compacted(done, in, out);
  }

  private int rewriteManifests(Table t) {
    t.refresh();
    Snapshot current = t.currentSnapshot();
    if (current == null) {
      return 0;
    }
    List<ManifestFile> data = current.dataManifests(t.io());
    if (data.size() <= config.maxManifests()) {
      return 0;
    }
    // one cluster per spec: the rewrite packs the entries into manifests of the target manifest
    // size
    t.rewriteManifests()
        .rewriteIf(m -> m.content() == ManifestContent.DATA)
        .clusterBy(f -> f.specId())
        .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_REWRITE_MANIFESTS)
        .commit();
    metrics.manifestsRewritten(data.size());
    LOG.info("table maintenance: rewrote {} manifests", data.size());
    return data.size();
  }

  private void observe(Table t) {
    try {
      t.refresh();
      Snapshot current = t.currentSnapshot();
      long files = 0;
      long small = 0;
      long threshold = compactor.smallFileBytes(t);
      if (current != null) {
        files = Long.parseLong(current.summary().getOrDefault("total-data-files", "0"));
        try (var tasks = t.newScan().planFiles()) {
          for (var task : tasks) {
            if (task.file().fileSizeInBytes() < threshold) {
              small++;
            }
          }
        }
      }
      String metadata = ((HasTableOperations) t).operations().current().metadataFileLocation();
      long metadataBytes = metadata == null ? 0 : t.io().newInputFile(metadata).getLength();
      metrics.table(size(t.snapshots()), files, small, metadataBytes);
    } catch (Exception e) {
      LOG.debug("table maintenance: cannot observe the table", e);
    }
  }

  private static int size(Iterable<?> items) {
    int n = 0;
    for (Object ignored : items) {
      n++;
    }
    return n;
  }

  /**
   * Metadata hygiene: Iceberg deletes metadata files beyond the newest {@code
   * write.metadata.previous-versions-max} only when {@code
   * write.metadata.delete-after-commit.enabled} is on. Floe creates its table so; a table created
   * elsewhere without them gets them here (an explicit value, even "false", is left as its owner
   * set it).
   */
  private int hygiene(Table t) {
    Map<String, String> p = t.properties();
    if (p.containsKey(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED)
        && p.containsKey(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX)) {
      return 0;
    }
    var update = t.updateProperties();
    if (!p.containsKey(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED)) {
      update.set(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true");
    }
    if (!p.containsKey(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX)) {
      update.set(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "100");
    }
    update.commit();
    LOG.info("table maintenance: turned on the deletion of old metadata files (at most 100 kept)");
    return 1;
  }

  /** Stops the cycles and gives the lease up, so that another process takes over at once. */
  @Override
  public void close() {
    scheduler.shutdownNow();
    try {
      scheduler.awaitTermination(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (held) {
      try {
        Table t = table.get();
        if (t != null) {
          lease.release(t);
        }
      } catch (RuntimeException e) {
        LOG.warn(
            "table maintenance: could not release the lease (it expires by itself): {}",
            e.toString());
      }
    }
  }
}
