package io.floe.it.bench;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.maintenance.MaintenanceConfig;
import io.floe.catalog.maintenance.MaintenanceMetrics;
import io.floe.catalog.maintenance.TableMaintenance;
import io.floe.catalog.service.CatalogService;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.config.Settings;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.data.GenericFileWriterFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.io.RollingDataWriter;

/**
 * What compaction does for an hour partition that a node flushed every 5 s: --files small files
 * (one per flush, sorted, --events each) are committed to an hour that closed, then the table's
 * maintenance compacts it. Reports data files and their median size before and after, and a full
 * scan and a filtered scan (one stream, ten minutes) timed before and after in the same run, with
 * Iceberg's generic reader (no engine: the file-opening cost is what compaction removes).
 *
 * <p>usage: CompactionBench [--files 720] [--events 200] [--target-mib 8] [--dir
 * .floe/bench-compaction]
 */
public final class CompactionBench {
  private CompactionBench() {}

  public static void main(String[] args) throws Exception {
    int files = 720;
    int events = 200;
    int targetMib = 8;
    Path dir = Path.of(".floe/bench-compaction");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--files" -> files = Integer.parseInt(args[i + 1]);
        case "--events" -> events = Integer.parseInt(args[i + 1]);
        case "--target-mib" -> targetMib = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    Result r = run(dir, files, events, targetMib);
    System.out.printf(
        "%-10s %8s %16s %12s %14s %14s%n",
        "table", "files", "median_file_KB", "rows", "full_scan_ms", "filtered_ms");
    print("before", r.before());
    print("after", r.after());
    System.out.printf(Locale.ROOT, "compaction: %s%n", r.summary());
  }

  /** What one compaction of a flushed hour did: the table's shape before and after. */
  public record Result(Shape before, Shape after, double seconds, int targetMib) {
    /** The benchmark's machine-readable figures, {@code key=value} separated by spaces. */
    public String summary() {
      return String.format(
          Locale.ROOT,
          "files_before=%d files_after=%d median_file_mb_before=%.3f median_file_mb_after=%.3f"
              + " target_mb=%d compact_s=%.1f full_scan_ratio=%.2f filtered_scan_ratio=%.2f rows=%s",
          before.files(),
          after.files(),
          before.medianBytes() / 1e6,
          after.medianBytes() / 1e6,
          targetMib,
          seconds,
          after.fullMillis() / before.fullMillis(),
          after.filteredMillis() / before.filteredMillis(),
          before.rows() == after.rows() && before.filteredRows() == after.filteredRows()
              ? "identical"
              : "DIFFER");
    }
  }

  /**
   * Commits {@code files} flushes of {@code events} events into an hour that closed, compacts it
   * with the table's maintenance and measures the table before and after. Data in {@code dir}.
   */
  public static Result run(Path dir, int files, int events, int targetMib) throws Exception {
    FlushBench.deleteTree(dir);
    try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, "floe");
        CatalogService service =
            LocalCatalog.start(dir.resolve("catalog.db"), s3.fileIoProperties(), Map.of())) {
      Catalog catalog =
          CatalogConnector.open(
              "bench", CatalogConnector.rest("http://127.0.0.1:" + service.port()));
      TableSettings settings =
          TableSettings.load(Settings.of(Map.of("table.target-file-size", targetMib + "MiB")));
      Table table = EventsTable.ensure(catalog, settings);
      OffsetDateTime hour =
          Instant.now()
              .minus(4, ChronoUnit.HOURS)
              .truncatedTo(ChronoUnit.HOURS)
              .atOffset(ZoneOffset.UTC);
      System.out.printf(
          "compaction bench: %d flushes of %d events (5 s apart) into hour %s, target file size %d MiB,"
              + " %d cores%n",
          files, events, hour, targetMib, Runtime.getRuntime().availableProcessors());
      CommitProtocol protocol = new CommitProtocol(table, 0, "bench");
      PartitionClaim claim = protocol.claim();
      SplittableRandom random = new SplittableRandom(7);
      long sequence = 0;
      for (int f = 0; f < files; f++) {
        OffsetDateTime flushStart = hour.plusSeconds(f * 3600L / files);
        List<Record> rows = new ArrayList<>(events);
        for (int e = 0; e < events; e++) {
          GenericRecord r = GenericRecord.create(table.schema());
          long s = sequence + e + 1;
          r.setField("stream", random.nextInt(4) == 0 ? "orders" : "clicks");
          r.setField("partition_id", 0);
          r.setField("sequence", s);
          r.setField("event_time", flushStart.plusNanos(random.nextLong(5_000_000_000L)));
          r.setField("ingest_time", flushStart.plusSeconds(5));
          r.setField("event_key", "user-" + random.nextInt(10_000));
          r.setField(
              "payload",
              "{\"user\":"
                  + random.nextInt(10_000)
                  + ",\"page\":\"/p/"
                  + random.nextInt(500)
                  + "\",\"amount\":"
                  + random.nextInt(100_000) / 100.0
                  + ",\"agent\":\"Mozilla/5.0 (X11; Linux x86_64)\"}");
          rows.add(r);
        }
        rows.sort(
            Comparator.<Record, String>comparing(r -> (String) r.getField("stream"))
                .thenComparing(r -> (OffsetDateTime) r.getField("event_time")));
        protocol.commit(
            claim, sequence, sequence + events, List.of(write(table, rows, f)), Map.of());
        sequence += events;
        if ((f + 1) % 100 == 0) {
          System.out.printf("  %d/%d flushes committed%n", f + 1, files);
        }
      }
      Expression filter =
          Expressions.and(
              Expressions.equal("stream", "orders"),
              Expressions.greaterThanOrEqual("event_time", hour.plusMinutes(20).toString()),
              Expressions.lessThan("event_time", hour.plusMinutes(30).toString()));
      Shape before = shape(table, filter);
      long start = System.nanoTime();
      TableMaintenance.Cycle cycle =
          new TableMaintenance(
                  () -> table,
                  MaintenanceConfig.load(Settings.of(Map.of())),
                  new MaintenanceMetrics(new PrometheusRegistry()),
                  Clock.systemUTC())
              .runOnce();
      double compactSeconds = (System.nanoTime() - start) / 1e9;
      Shape after = shape(table, filter);
      Result result = new Result(before, after, compactSeconds, targetMib);
      if (catalog instanceof AutoCloseable c) {
        c.close();
      }
      return result;
    }
  }

  /** Data files, median file size, rows and two scan times of the table. */
  public record Shape(
      int files,
      long medianBytes,
      long rows,
      long filteredRows,
      double fullMillis,
      double filteredMillis) {}

  private static void print(String name, Shape s) {
    System.out.printf(
        "%-10s %8d %16.1f %12d %14.1f %14.1f%n",
        name, s.files(), s.medianBytes() / 1024.0, s.rows(), s.fullMillis(), s.filteredMillis());
  }

  private static DataFile write(Table table, List<Record> rows, int task) throws Exception {
    PartitionKey key = new PartitionKey(table.spec(), table.schema());
    key.partition(new InternalRecordWrapper(table.schema().asStruct()).wrap(rows.get(0)));
    RollingDataWriter<Record> writer =
        new RollingDataWriter<>(
            new GenericFileWriterFactory.Builder(table)
                .dataFileFormat(FileFormat.PARQUET)
                .dataSchema(table.schema())
                .build(),
            OutputFileFactory.builderFor(table, 0, task)
                .format(FileFormat.PARQUET)
                .operationId(UUID.randomUUID().toString())
                .build(),
            table.io(),
            128L << 20,
            table.spec(),
            key);
    try (writer) {
      rows.forEach(writer::write);
    }
    return writer.result().dataFiles().get(0);
  }

  /** Files, their median size, and scans timed three times each (median). */
  private static Shape shape(Table table, Expression filter) throws Exception {
    table.refresh();
    List<Long> sizes = new ArrayList<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      tasks.forEach(t -> sizes.add(t.file().fileSizeInBytes()));
    }
    long[] s = sizes.stream().mapToLong(Long::longValue).sorted().toArray();
    double[] full = new double[3];
    double[] filtered = new double[3];
    long rows = 0;
    long filteredRows = 0;
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      rows = count(IcebergGenerics.read(table).build());
      full[i] = (System.nanoTime() - t0) / 1e6;
      t0 = System.nanoTime();
      filteredRows = count(IcebergGenerics.read(table).where(filter).build());
      filtered[i] = (System.nanoTime() - t0) / 1e6;
    }
    Arrays.sort(full);
    Arrays.sort(filtered);
    return new Shape(
        s.length, s.length == 0 ? 0 : s[s.length / 2], rows, filteredRows, full[1], filtered[1]);
  }

  private static long count(CloseableIterable<Record> records) throws Exception {
    long n = 0;
    try (records) {
      for (Record ignored : records) {
        n++;
      }
    }
    return n;
  }
}
