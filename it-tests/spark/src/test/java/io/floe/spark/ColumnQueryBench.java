package io.floe.spark;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The benefit of typed columns to a query engine: local Spark (the Iceberg runtime, Floe's REST
 * catalog with a {@code catalog:read} token) runs the same filter + aggregate twice over the same
 * rows, once on typed columns and once with {@code get_json_object} on the payload; each three
 * times, the best time reported with the bytes Spark read (task input metrics), as a ratio.
 *
 * <p>usage: ColumnQueryBench [--rows 1000000] [--dir .floe/bench-columns/spark]; last line {@code
 * query: rows=<n> typed_s=<x> json_s=<x> speedup=<x> typed_mb_read=<x> json_mb_read=<x>}
 */
public final class ColumnQueryBench {
  private static final String[] WORDS = {
    "click", "view", "purchase", "signup", "search", "logout", "cart", "home"
  };

  private ColumnQueryBench() {}

  /** Bytes read by every task that ended, as Spark's input metrics count them. */
  private static final class BytesRead extends SparkListener {
    final AtomicLong bytes = new AtomicLong();

    @Override
    public void onTaskEnd(SparkListenerTaskEnd end) {
      if (end.taskMetrics() != null) {
        bytes.addAndGet(end.taskMetrics().inputMetrics().bytesRead());
      }
    }
  }

  private record Run(double seconds, long bytes, List<Row> rows) {}

  public static void main(String[] args) throws Exception {
    int rows = 1_000_000;
    Path dir = Path.of(".floe/bench-columns/spark");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--rows" -> rows = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    BenchSupport.freshDir(dir);
    // flushes of 128 MiB of events: files of tens of MB, as a table looks after compaction
    try (FloeServices floe =
        new FloeServices(
            dir,
            Map.of(
                "FLOE_FLUSH_MAX_AGE_SECONDS",
                "3600",
                "FLOE_FLUSH_TRIGGER_BYTES",
                "128MiB",
                "FLOE_FLUSH_MAX_BYTES",
                "128MiB"))) {
      for (String[] c :
          new String[][] {
            {"user_id", "long", "user.id"},
            {"amount", "decimal(12,2)", "order.amount"},
            {"country", "string", "geo.country"}
          }) {
        if (floe.addColumn(c[0], c[1], c[2]) != 201) {
          throw new IllegalStateException("could not add column " + c[0]);
        }
      }
      floe.awaitNodeColumns(3);
      long start = System.nanoTime();
      SplittableRandom random = new SplittableRandom(3);
      String[] countries = {"DE", "FR", "US", "BR", "JP", "IN"};
      for (int sent = 0; sent < rows; sent += 5000) {
        StringBuilder body = new StringBuilder();
        for (int i = sent; i < Math.min(rows, sent + 5000); i++) {
          body.append("{\"user\":{\"id\":")
              .append(random.nextInt(100_000))
              .append("},\"order\":{\"amount\":")
              .append(random.nextInt(10_000))
              .append('.')
              .append(10 + random.nextInt(90))
              .append("},\"geo\":{\"country\":\"")
              .append(countries[random.nextInt(countries.length)])
              .append("\"},\"page\":\"/p/")
              .append(random.nextInt(10_000))
              .append("\",\"text\":\"");
          for (int w = 0; w < 40; w++) {
            body.append(WORDS[random.nextInt(WORDS.length)])
                .append(' ')
                .append(random.nextInt(1000))
                .append(' ');
          }
          body.append("\"}\n");
        }
        floe.ingest("orders", body.toString());
        if (sent % 200_000 == 0) {
          System.out.printf("ingested %d of %d rows%n", sent, rows);
        }
      }
      floe.flush();
      System.out.printf(
          Locale.ROOT,
          "ingested and committed %d rows in %.1f s%n",
          rows,
          (System.nanoTime() - start) / 1e9);

      BytesRead read = new BytesRead();
      SparkSession spark = BenchSupport.reader(floe, "floe-column-bench");
      spark.sparkContext().addSparkListener(read);
      String typed =
          "SELECT country, count(*), sum(amount) FROM floe.floe.events WHERE user_id < 10000"
              + " GROUP BY country ORDER BY country";
      String json =
          "SELECT get_json_object(payload, '$.geo.country') AS c, count(*),"
              + " sum(CAST(get_json_object(payload, '$.order.amount') AS DECIMAL(12,2))) FROM floe.floe.events"
              + " WHERE CAST(get_json_object(payload, '$.user.id') AS BIGINT) < 10000 GROUP BY c ORDER BY c";
      Run t = best(spark, read, typed);
      Run j = best(spark, read, json);
      if (!t.rows().toString().equals(j.rows().toString())) {
        throw new IllegalStateException(
            "the two queries disagree: " + t.rows() + " vs " + j.rows());
      }
      System.out.println("both queries answer " + t.rows());
      System.out.printf(
          Locale.ROOT, "typed columns:   %.2f s, %.1f MB read%n", t.seconds(), t.bytes() / 1e6);
      System.out.printf(
          Locale.ROOT, "get_json_object: %.2f s, %.1f MB read%n", j.seconds(), j.bytes() / 1e6);
      System.out.printf(
          Locale.ROOT,
          "query: rows=%d typed_s=%.2f json_s=%.2f speedup=%.1f typed_mb_read=%.1f"
              + " json_mb_read=%.1f%n",
          rows,
          t.seconds(),
          j.seconds(),
          j.seconds() / t.seconds(),
          t.bytes() / 1e6,
          j.bytes() / 1e6);
      spark.stop();
    }
  }

  /** Three runs of {@code sql}; the fastest, with what it read. */
  private static Run best(SparkSession spark, BytesRead read, String sql) throws Exception {
    Run best = null;
    for (int i = 0; i < 3; i++) {
      Thread.sleep(500); // listener events of the previous run delivered
      read.bytes.set(0);
      long start = System.nanoTime();
      List<Row> rows = new ArrayList<>(spark.sql(sql).collectAsList());
      double seconds = (System.nanoTime() - start) / 1e9;
      Thread.sleep(500);
      Run r = new Run(seconds, read.bytes.get(), rows);
      if (best == null || r.seconds() < best.seconds()) {
        best = r;
      }
    }
    return best;
  }
}
