package io.floe.it.bench;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.service.CatalogService;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;

/**
 * What table maintenance does for the commit path: N flush commits (one small data file each, as a
 * node with little traffic makes them) through the REST catalog service, once with maintenance off
 * and once on (a cycle every second, snapshots kept --retention-seconds and at least 100), in the
 * same run. Reports the median commit time and the metadata file's size over the first and the last
 * 500 commits of each; then lets maintenance compact an hour flushed --compaction-files times
 * ({@link CompactionBench}) for the data files' count and median size before and after. Ends with
 * one {@code maintenance: key=value ...} line.
 *
 * <p>usage: MaintenanceBench [--commits 5000] [--retention-seconds 30] [--compaction-files 720]
 * [--dir .floe/bench-maintenance]
 */
public final class MaintenanceBench {
  private MaintenanceBench() {}

  private record Run(long[] commitNanos, long[] metadataBytes, int snapshots) {}

  public static void main(String[] args) throws Exception {
    int commits = 5000;
    int retention = 30;
    int compactionFiles = 720;
    Path dir = Path.of(".floe/bench-maintenance");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--commits" -> commits = Integer.parseInt(args[i + 1]);
        case "--retention-seconds" -> retention = Integer.parseInt(args[i + 1]);
        case "--compaction-files" -> compactionFiles = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (commits < 1000) {
      throw new IllegalArgumentException("--commits must be at least 1000 (two windows of 500)");
    }
    FlushBench.deleteTree(dir);
    System.out.printf(
        "maintenance bench: %d commits each, without and with maintenance (retention %d s, at least"
            + " 100 snapshots), %d cores%n",
        commits, retention, Runtime.getRuntime().availableProcessors());
    Run off = run(dir.resolve("off"), commits, null);
    Run on =
        run(
            dir.resolve("on"),
            commits,
            Map.of(
                "FLOE_MAINTENANCE_ENABLED",
                "true",
                "FLOE_MAINTENANCE_INTERVAL_SECONDS",
                "1",
                "FLOE_MAINTENANCE_SNAPSHOT_RETENTION_SECONDS",
                Integer.toString(retention)));
    System.out.printf(
        "%-16s %14s %14s %14s %14s %10s%n",
        "run", "first500_ms", "last500_ms", "first500_KB", "last500_KB", "snapshots");
    print("no maintenance", off);
    print("maintenance", on);
    System.out.printf(
        "compacting: %d flushes of 200 events into a closed hour, then one maintenance cycle%n",
        compactionFiles);
    CompactionBench.Result compaction =
        CompactionBench.run(dir.resolve("compaction"), compactionFiles, 200, 8);
    System.out.printf(
        Locale.ROOT,
        "maintenance: commits=%d commit_ms_first=%.1f commit_ms_last=%.1f metadata_bytes_first=%.0f"
            + " metadata_bytes_last=%.0f commit_ms_last_without=%.1f metadata_bytes_last_without=%.0f"
            + " snapshots=%d snapshots_without=%d %s%n",
        commits,
        median(on.commitNanos(), 0, 500) / 1e6,
        median(on.commitNanos(), commits - 500, commits) / 1e6,
        median(on.metadataBytes(), 0, 500),
        median(on.metadataBytes(), commits - 500, commits),
        median(off.commitNanos(), commits - 500, commits) / 1e6,
        median(off.metadataBytes(), commits - 500, commits),
        on.snapshots(),
        off.snapshots(),
        compaction.summary());
  }

  private static void print(String name, Run r) {
    int n = r.commitNanos().length;
    System.out.printf(
        "%-16s %14.1f %14.1f %14.1f %14.1f %10d%n",
        name,
        median(r.commitNanos(), 0, 500) / 1e6,
        median(r.commitNanos(), n - 500, n) / 1e6,
        median(r.metadataBytes(), 0, 500) / 1024,
        median(r.metadataBytes(), n - 500, n) / 1024,
        r.snapshots());
  }

  private static Run run(Path dir, int commits, Map<String, String> maintenance) throws Exception {
    long[] nanos = new long[commits];
    long[] bytes = new long[commits];
    try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, "floe");
        CatalogService service =
            LocalCatalog.start(
                dir.resolve("catalog.db"),
                s3.fileIoProperties(),
                maintenance == null ? Map.of() : maintenance)) {
      Catalog catalog =
          CatalogConnector.open(
              "bench", CatalogConnector.rest("http://127.0.0.1:" + service.port()));
      Table table = EventsTable.ensure(catalog, TableSettings.defaults());
      CommitProtocol protocol = new CommitProtocol(table, 0, "bench");
      PartitionClaim claim = protocol.claim();
      long hour = Instant.now().truncatedTo(ChronoUnit.HOURS).getEpochSecond() / 3600;
      for (int i = 0; i < commits; i++) {
        DataFile file =
            DataFiles.builder(table.spec())
                .withPath(table.location() + "/data/bench-" + UUID.randomUUID() + ".parquet")
                .withFormat(FileFormat.PARQUET)
                .withPartitionPath("event_time_hour=" + hour)
                .withFileSizeInBytes(4096)
                .withRecordCount(10)
                .build();
        long start = System.nanoTime();
        protocol.commit(claim, i * 10L, i * 10L + 10, List.of(file), Map.of());
        nanos[i] = System.nanoTime() - start;
        String metadata =
            ((HasTableOperations) table).operations().current().metadataFileLocation();
        bytes[i] = table.io().newInputFile(metadata).getLength();
        if ((i + 1) % 500 == 0) {
          System.out.printf(
              "  %s: %d/%d commits, metadata %d KB%n",
              maintenance == null ? "off" : "on", i + 1, commits, bytes[i] / 1024);
        }
      }
      table.refresh();
      int snapshots = 0;
      for (var ignored : table.snapshots()) {
        snapshots++;
      }
      if (catalog instanceof AutoCloseable c) {
        c.close();
      }
      return new Run(nanos, bytes, snapshots);
    }
  }

  private static double median(long[] values, int from, int to) {
    long[] w = Arrays.copyOfRange(values, from, to);
    Arrays.sort(w);
    return w.length % 2 == 1 ? w[w.length / 2] : (w[w.length / 2 - 1] + w[w.length / 2]) / 2.0;
  }
}
