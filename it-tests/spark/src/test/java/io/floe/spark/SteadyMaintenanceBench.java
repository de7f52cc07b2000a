package io.floe.spark;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Table health after a steady run, end to end: a node ingests at a steady rate for N minutes and
 * flushes every 5 s while the catalog service's maintenance expires snapshots and sweeps orphans
 * (compaction held back); then data files per hour partition and their median size, the snapshot
 * count and orphan files are measured, Spark times {@code count(*)} and a filtered query; then the
 * catalog service is restarted with compaction due, and the same is measured on the compacted
 * table. One run, ratios against the uncompacted figures.
 *
 * <p>Event times run at twice the wall clock from the start of an hour three hours back, so that a
 * 30-minute run fills exactly one closed hour partition.
 *
 * <p>usage: SteadyMaintenanceBench [--minutes 30] [--rate 2000] [--dir .floe/bench-steady]; last
 * line {@code steady: minutes=.. events=.. files_before=.. files_after=.. median_file_mb_before=..
 * median_file_mb_after=.. target_mb=128 snapshots=.. orphans=.. count_s_before=.. count_s_after=..
 * filtered_s_before=.. filtered_s_after=..}
 */
public final class SteadyMaintenanceBench {
  private static final String[] WORDS = {
    "click", "view", "purchase", "signup", "search", "logout", "cart", "home"
  };

  private SteadyMaintenanceBench() {}

  private record Health(
      int files,
      double medianMb,
      long snapshots,
      int orphans,
      double countSeconds,
      double filteredSeconds,
      long rows) {}

  public static void main(String[] args) throws Exception {
    double minutes = 30;
    int rate = 2000;
    Path dir = Path.of(".floe/bench-steady");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--minutes" -> minutes = Double.parseDouble(args[i + 1]);
        case "--rate" -> rate = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    BenchSupport.freshDir(dir);
    Map<String, String> maintenance =
        Map.of(
            "FLOE_MAINTENANCE_INTERVAL_SECONDS", "60",
            "FLOE_MAINTENANCE_SNAPSHOT_RETENTION_SECONDS", "600",
            "FLOE_MAINTENANCE_MIN_SNAPSHOTS", "20",
            "FLOE_MAINTENANCE_ORPHAN_INTERVAL_SECONDS", "300",
            // compaction held back during the run, so that the uncompacted table can be measured
            "FLOE_MAINTENANCE_COMPACT_AFTER_SECONDS", Long.toString(365L * 86400));
    try (FloeServices floe =
        new FloeServices(dir, Map.of("FLOE_FLUSH_MAX_AGE_SECONDS", "5"), maintenance)) {
      long events = produce(floe, minutes, rate);
      floe.flush();
      SparkSession spark = BenchSupport.reader(floe, "floe-steady-bench");
      Health before = health(spark, floe);
      System.out.println("before compaction: " + before);

      floe.restartCatalog(
          Map.of(
              "FLOE_MAINTENANCE_COMPACT_AFTER_SECONDS",
              "0",
              "FLOE_MAINTENANCE_INTERVAL_SECONDS",
              "5"));
      long deadline = System.nanoTime() + 15L * 60 * 1_000_000_000L;
      int files = before.files();
      int stable = 0;
      while (stable < 3 && System.nanoTime() < deadline) {
        Thread.sleep(10_000);
        int now = (int) spark.sql("SELECT count(*) FROM floe.floe.events.files").first().getLong(0);
        stable = now == files && now < before.files() ? stable + 1 : 0;
        files = now;
        System.out.printf("compacting: %d data files%n", now);
      }
      Health after = health(spark, floe);
      System.out.println("after compaction:  " + after);
      if (after.rows() != before.rows() || after.rows() != events) {
        throw new IllegalStateException(
            "rows changed: "
                + events
                + " sent, "
                + before.rows()
                + " before, "
                + after.rows()
                + " after");
      }
      System.out.printf(
          Locale.ROOT,
          "compacted vs not: files %.3fx, count(*) %.2fx time, filtered query %.2fx time%n",
          (double) after.files() / before.files(),
          after.countSeconds() / before.countSeconds(),
          after.filteredSeconds() / before.filteredSeconds());
      System.out.printf(
          Locale.ROOT,
          "steady: minutes=%.0f events=%d files_before=%d files_after=%d median_file_mb_before=%.2f"
              + " median_file_mb_after=%.1f target_mb=128 snapshots=%d orphans=%d count_s_before=%.2f count_s_after=%.2f"
              + " filtered_s_before=%.2f filtered_s_after=%.2f%n",
          minutes,
          events,
          before.files(),
          after.files(),
          before.medianMb(),
          after.medianMb(),
          before.snapshots(),
          after.orphans(),
          before.countSeconds(),
          after.countSeconds(),
          before.filteredSeconds(),
          after.filteredSeconds());
      spark.stop();
    }
  }

  /** Sends {@code rate} events a second for {@code minutes}; returns how many were acknowledged. */
  private static long produce(FloeServices floe, double minutes, int rate) throws Exception {
    long start = System.currentTimeMillis();
    long hour = 3_600_000L;
    long eventBase = (start / hour - 3) * hour;
    long end = start + (long) (minutes * 60_000);
    SplittableRandom random = new SplittableRandom(5);
    long sent = 0;
    long nextReport = start + 60_000;
    int perTick = Math.max(1, rate / 10);
    for (long tick = start; tick < end; tick += 100) {
      long wait = tick - System.currentTimeMillis();
      if (wait > 0) {
        Thread.sleep(wait);
      }
      long eventTime =
          Math.min(eventBase + 2 * (System.currentTimeMillis() - start), eventBase + hour - 1);
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < perTick; i++) {
        body.append("{\"n\":")
            .append(sent + i)
            .append(",\"event_time\":")
            .append(eventTime)
            .append(",\"user\":{\"id\":")
            .append(random.nextInt(100_000))
            .append("},\"page\":\"/p/")
            .append(random.nextInt(10_000))
            .append("\",\"text\":\"");
        for (int w = 0; w < 50; w++) {
          body.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        body.append("\"}\n");
      }
      floe.ingest("steady", body.toString());
      sent += perTick;
      if (System.currentTimeMillis() >= nextReport) {
        nextReport += 60_000;
        String m = floe.catalogMetrics();
        System.out.printf(
            "minute %d: %d events sent; table: %s snapshots, %s data files%n",
            (System.currentTimeMillis() - start) / 60_000,
            sent,
            gauge(m, "floe_maintenance_table_snapshots"),
            gauge(m, "floe_maintenance_table_data_files"));
      }
    }
    return sent;
  }

  private static Health health(SparkSession spark, FloeServices floe) throws Exception {
    List<Long> sizes =
        spark.sql("SELECT file_size_in_bytes FROM floe.floe.events.files").collectAsList().stream()
            .map(r -> r.getLong(0))
            .sorted()
            .toList();
    List<Row> perPartition =
        spark
            .sql("SELECT partition, count(*) FROM floe.floe.events.files GROUP BY partition")
            .collectAsList();
    System.out.println(
        "data files per hour partition: "
            + perPartition.stream()
                .map(r -> r.get(0) + "=" + r.getLong(1))
                .collect(Collectors.joining(", ")));
    long snapshots =
        spark.sql("SELECT count(*) FROM floe.floe.events.snapshots").first().getLong(0);
    Set<String> referenced = new HashSet<>();
    spark
        .sql("SELECT file_path FROM floe.floe.events.all_data_files")
        .collectAsList()
        .forEach(r -> referenced.add(r.getString(0).replaceFirst("^s3a?://", "")));
    int orphans = 0;
    try (var files = Files.walk(floe.s3Dir)) {
      for (Path p : files.filter(p -> p.toString().endsWith(".parquet")).toList()) {
        if (!referenced.contains(floe.s3Dir.relativize(p).toString())) {
          orphans++;
        }
      }
    }
    double count = Double.MAX_VALUE;
    double filtered = Double.MAX_VALUE;
    long rows = 0;
    for (int i = 0; i < 3; i++) {
      long t0 = System.nanoTime();
      rows = spark.sql("SELECT count(*) FROM floe.floe.events").first().getLong(0);
      count = Math.min(count, (System.nanoTime() - t0) / 1e9);
      t0 = System.nanoTime();
      spark
          .sql(
              "SELECT count(*), sum(CAST(get_json_object(payload, '$.n') AS BIGINT)) FROM floe.floe.events"
                  + " WHERE stream = 'steady' AND get_json_object(payload, '$.user.id') = '4242'")
          .collectAsList();
      filtered = Math.min(filtered, (System.nanoTime() - t0) / 1e9);
    }
    double median = sizes.isEmpty() ? 0 : sizes.get(sizes.size() / 2) / 1e6;
    return new Health(sizes.size(), median, snapshots, orphans, count, filtered, rows);
  }

  private static String gauge(String metrics, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + " (\\S+)$").matcher(metrics);
    return m.find() ? m.group(1) : "?";
  }
}
