package io.floe.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Spark as users run it: the Iceberg Spark runtime against Floe's REST catalog service with scoped
 * tokens. The catalog {@code reader} holds a {@code catalog:read} token (what the README gives
 * query engines), {@code anon} none, {@code operator} an {@code admin} token (what maintenance on a
 * user's own Spark needs).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SparkCatalogTest {
  @TempDir static Path dir;
  private FloeServices floe;
  private SparkSession spark;

  @BeforeAll
  void start() throws Exception {
    floe = new FloeServices(dir);
    SparkSession.Builder b =
        SparkSession.builder()
            .master("local[2]")
            .appName("floe-spark-test")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.driver.host", "127.0.0.1")
            .config(
                "spark.sql.extensions",
                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions");
    catalog(b, "reader", FloeServices.READER_TOKEN);
    catalog(b, "anon", null);
    catalog(b, "operator", FloeServices.ADMIN_TOKEN);
    spark = b.getOrCreate();
  }

  private void catalog(SparkSession.Builder b, String name, String token) {
    String p = "spark.sql.catalog." + name;
    b.config(p, "org.apache.iceberg.spark.SparkCatalog")
        .config(p + ".type", "rest")
        .config(p + ".uri", floe.catalogUri())
        // a table that changes every second: read its latest snapshot, not one cached for 30 s
        .config(p + ".cache-enabled", "false")
        // the REST spec's access delegation header: the catalog hands storage credentials to
        // callers that ask
        .config(p + ".header.X-Iceberg-Access-Delegation", "vended-credentials");
    if (token != null) {
      b.config(p + ".token", token);
    }
  }

  @AfterAll
  void stop() throws Exception {
    if (spark != null) {
      spark.stop();
    }
    if (floe != null) {
      floe.close();
    }
  }

  @Test
  void aCatalogReadTokenQueriesTheTableAndCannotWriteIt() throws Exception {
    long last = 0;
    for (String stream : List.of("clicks", "orders")) {
      last = floe.ingest(stream, events(stream, 0, 250));
    }
    floe.awaitCommitted(last);

    List<Row> rows =
        spark
            .sql(
                "SELECT stream, count(*), count(DISTINCT sequence),"
                    + " sum(CAST(get_json_object(payload, '$.n') AS BIGINT))"
                    + " FROM reader.floe.events WHERE stream IN ('clicks', 'orders') GROUP BY stream ORDER BY stream")
            .collectAsList();
    assertThat(rows).hasSize(2);
    for (Row r : rows) {
      assertThat(r.getLong(1)).as("rows of %s", r.getString(0)).isEqualTo(250);
      assertThat(r.getLong(2)).isEqualTo(250);
      assertThat(r.getLong(3)).isEqualTo(249L * 250 / 2);
    }

    assertThatThrownBy(
            () ->
                spark
                    .sql("INSERT INTO reader.floe.events SELECT * FROM reader.floe.events LIMIT 1")
                    .collectAsList())
        .as("a catalog:read token commits nothing")
        .hasStackTraceContaining("catalog:commit");
    assertThatThrownBy(
            () ->
                spark
                    .sql(
                        "ALTER TABLE reader.floe.events SET TBLPROPERTIES ('floe.partition.0.committed-sequence'='0')")
                    .collectAsList())
        .as("nor rewrites the nodes' state")
        .hasStackTraceContaining("ForbiddenException")
        .hasStackTraceContaining("may not POST");
    assertThatThrownBy(() -> spark.sql("SELECT count(*) FROM anon.floe.events").collectAsList())
        .as("no token, no table")
        .hasStackTraceContaining("NotAuthorized");
    assertThat(count("reader", "stream IN ('clicks', 'orders')"))
        .as("nothing changed")
        .isEqualTo(500);
  }

  /**
   * Maintenance run by someone else (Spark's rewrite_data_files, as users with their own Spark run
   * it) while the node keeps ingesting and committing: the node's commits go on, and the table
   * holds every acknowledged event exactly once.
   */
  @Test
  void aRewriteBySparkDuringIngestionKeepsEveryEventExactlyOnce() throws Exception {
    ExecutorService producer = Executors.newSingleThreadExecutor();
    int perBatch = 20;
    AtomicInteger rewrites = new AtomicInteger();
    AtomicInteger batches = new AtomicInteger();
    // the producer goes on until two rewrites committed during ingestion (at most 600 batches, so
    // that a rewrite that never happens fails the test instead of hanging it)
    Future<Long> ingest =
        producer.submit(
            () -> {
              long last = 0;
              for (int i = 0; i < 600 && (i < 60 || rewrites.get() < 2); i++) {
                last = floe.ingest("rewrite", events("rewrite", i * perBatch, perBatch));
                batches.incrementAndGet();
                Thread.sleep(100);
              }
              return last;
            });
    try {
      while (!ingest.isDone()) {
        Thread.sleep(1500);
        List<Row> r =
            spark
                .sql(
                    "CALL operator.system.rewrite_data_files(table => 'floe.events',"
                        + " options => map('min-input-files', '2', 'partial-progress.enabled', 'false'))")
                .collectAsList();
        if (r.get(0).getInt(0) > 0) {
          rewrites.incrementAndGet();
        }
      }
      floe.awaitCommitted(ingest.get());
      assertThat(rewrites.get())
          .as("compactions committed during ingestion")
          .isGreaterThanOrEqualTo(2);
    } finally {
      producer.shutdownNow();
    }
    long events = (long) batches.get() * perBatch;
    Row r =
        spark
            .sql(
                "SELECT count(*), count(DISTINCT sequence), count(DISTINCT get_json_object(payload, '$.n'))"
                    + " FROM reader.floe.events WHERE stream = 'rewrite'")
            .first();
    assertThat(r.getLong(0)).as("rows").isEqualTo(events);
    assertThat(r.getLong(1)).as("distinct sequences").isEqualTo(events);
    assertThat(r.getLong(2)).as("distinct events").isEqualTo(events);
    assertThat(
            spark.sql("SELECT operation FROM reader.floe.events.snapshots").collectAsList().stream()
                .map(x -> x.getString(0))
                .collect(Collectors.toSet()))
        .contains("append", "replace");

    // and the node still commits after someone else rewrote its files
    long more = floe.ingest("rewrite-after", events("rewrite-after", 0, 10));
    floe.awaitCommitted(more);
    assertThat(count("reader", "stream = 'rewrite-after'")).isEqualTo(10);
  }

  /**
   * Typed columns as query engines see them: declared through the column API while the node runs,
   * read by Spark through the REST catalog as ordinary typed columns, agreeing with the payload.
   */
  @Test
  void sparkReadsTypedColumnsThroughTheRestCatalog() throws Exception {
    floe.awaitCommitted(floe.ingest("typed-before", "{\"user\":{\"id\":3},\"amount\":\"1.00\"}\n"));
    assertThat(floe.addColumn("user_id", "long", "user.id")).isEqualTo(201);
    assertThat(floe.addColumn("amount", "decimal(10,2)", "amount")).isEqualTo(201);
    floe.awaitNodeColumns(2);
    String body =
        IntStream.range(0, 300)
            .mapToObj(
                n ->
                    "{\"n\":"
                        + n
                        + ",\"user\":{\"id\":"
                        + (n % 7)
                        + "},\"amount\":\""
                        + n
                        + ".25\"}")
            .collect(Collectors.joining("\n", "", "\n"));
    floe.awaitCommitted(floe.ingest("typed", body));

    List<Row> schema = spark.sql("DESCRIBE TABLE reader.floe.events").collectAsList();
    assertThat(schema.stream().map(r -> r.getString(0) + " " + r.getString(1)).toList())
        .contains("user_id bigint", "amount decimal(10,2)");
    Row typed =
        spark
            .sql(
                "SELECT count(*), sum(amount) FROM reader.floe.events WHERE stream = 'typed' AND user_id = 3")
            .first();
    Row parsed =
        spark
            .sql(
                "SELECT count(*), sum(CAST(get_json_object(payload, '$.amount') AS DECIMAL(10,2)))"
                    + " FROM reader.floe.events WHERE stream = 'typed' AND CAST(get_json_object(payload, '$.user.id') AS BIGINT) = 3")
            .first();
    long expectedRows = IntStream.range(0, 300).filter(n -> n % 7 == 3).count();
    assertThat(typed.getLong(0)).isEqualTo(expectedRows);
    assertThat(typed.getDecimal(1)).isEqualByComparingTo(parsed.getDecimal(1));
    assertThat(typed.getLong(0)).isEqualTo(parsed.getLong(0));
    // a row committed before the columns existed reads as null; its payload keeps the value
    Row before =
        spark
            .sql(
                "SELECT user_id, amount, get_json_object(payload, '$.user.id') FROM reader.floe.events"
                    + " WHERE stream = 'typed-before'")
            .first();
    assertThat(before.isNullAt(0)).isTrue();
    assertThat(before.isNullAt(1)).isTrue();
    assertThat(before.getString(2)).isEqualTo("3");
  }

  /**
   * Dead letters as query engines see them: a stream that keeps them, one bad line among good ones,
   * and Spark reads the bad line's raw bytes and reason from the dead-letter table through the same
   * REST catalog.
   */
  @Test
  void sparkReadsTheDeadLetterTable() throws Exception {
    assertThat(floe.setStreamPolicy("dlq", "dead_letter")).isEqualTo(200);
    String body = "{\"n\":1}\n{\"n\":2,\n{\"n\":3}\n";
    HttpResponse<String> r = floe.sendOncePolicyFollowed("dlq", body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"dead_lettered\":1");
    floe.flush();
    List<Row> dead =
        spark
            .sql(
                "SELECT error_code, position, CAST(raw AS STRING), raw_truncated, replay_count"
                    + " FROM reader.floe.events_dead_letter WHERE stream = 'dlq'")
            .collectAsList();
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).getString(0)).isEqualTo("malformed_json");
    assertThat(dead.get(0).getInt(1)).isEqualTo(2);
    assertThat(dead.get(0).getString(2)).isEqualTo("{\"n\":2,");
    assertThat(dead.get(0).getBoolean(3)).isFalse();
    assertThat(dead.get(0).getInt(4)).isZero();
    assertThat(count("reader", "stream = 'dlq'")).isEqualTo(2);
  }

  private long count(String catalog, String where) {
    return spark
        .sql("SELECT count(*) FROM " + catalog + ".floe.events WHERE " + where)
        .first()
        .getLong(0);
  }

  private static String events(String stream, int from, int count) {
    return IntStream.range(from, from + count)
        .mapToObj(
            n ->
                "{\"n\":" + n + ",\"stream\":\"" + stream + "\",\"user\":{\"id\":" + (n % 7) + "}}")
        .collect(Collectors.joining("\n", "", "\n"));
  }
}
