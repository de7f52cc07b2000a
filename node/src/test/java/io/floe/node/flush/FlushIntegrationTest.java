package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogUnavailableException;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.common.config.Settings;
import io.floe.common.net.FreePort;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.DateTimeUtil;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.io.LocalInputFile;
import org.assertj.core.api.Assertions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlushIntegrationTest {
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  record Sent(long sequence, String stream, String key, String payload, long eventMillis) {}

  static HttpResponse<String> post(
      HttpClient http, int port, String path, String contentType, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static JsonObject flush(HttpClient http, int port) throws Exception {
    HttpResponse<String> r = post(http, port, "/v1/flush", "application/json", "");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body());
  }

  @Test
  void flushedEventsReadBackExactlyThroughTheRestCatalog() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = Node.start(NodeConfig.load(Settings.of(env.nodeSettings(2))))) {
      List<Sent> sent = new ArrayList<>();
      long base = Instant.parse("2026-11-23T09:00:00Z").toEpochMilli();
      Instant before = Instant.now();
      for (String stream : List.of("clicks", "orders")) {
        for (int hour = 0; hour < 3; hour++) {
          StringBuilder body = new StringBuilder();
          List<String[]> lines = new ArrayList<>();
          for (int i = 0; i < 50; i++) {
            long t = base + hour * 3_600_000L + (49 - i) * 1000L; // out of order within the request
            String key = i % 7 == 0 ? null : "user-" + (i % 5);
            String payload =
                "{\"event_time\":"
                    + t
                    + (key == null ? "" : ",\"key\":\"" + key + "\"")
                    + ",\"stream\":\""
                    + stream
                    + "\",\"i\":"
                    + i
                    + ",\"text\":\"h\\u00e9llo \\\"w\\\"\"}";
            body.append(payload.replace(",", ", ")).append('\n');
            lines.add(new String[] {key, payload, Long.toString(t)});
          }
          HttpResponse<String> r =
              post(
                  http,
                  node.port(),
                  "/v1/streams/" + stream + "/events",
                  "application/x-ndjson",
                  body.toString());
          assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
          long first = new JsonObject(r.body()).getLong("first_sequence");
          for (int i = 0; i < lines.size(); i++) {
            sent.add(
                new Sent(
                    first + i,
                    stream,
                    lines.get(i)[0],
                    lines.get(i)[1],
                    Long.parseLong(lines.get(i)[2])));
          }
        }
      }
      Instant after = Instant.now();
      JsonObject flushed = flush(http, node.port());
      assertThat(flushed.getLong("committed_sequence")).isEqualTo(300);
      assertThat(node.buffer().bufferedEvents()).isZero();
      assertThat(node.buffer().bufferedBytes()).isZero();

      List<TableEnv.Row> rows = env.rows();
      assertThat(rows).hasSize(sent.size());
      Map<Long, TableEnv.Row> bySequence = new HashMap<>();
      for (TableEnv.Row row : rows) {
        assertThat(row.partitionId()).isEqualTo(2);
        assertThat(bySequence.put(row.sequence(), row))
            .as("duplicate sequence %d", row.sequence())
            .isNull();
      }
      for (Sent s : sent) {
        TableEnv.Row row = bySequence.get(s.sequence());
        assertThat(row).as("sequence %d", s.sequence()).isNotNull();
        assertThat(row.stream()).isEqualTo(s.stream());
        assertThat(row.key()).isEqualTo(s.key());
        assertThat(row.payload()).isEqualTo(s.payload());
        assertThat(row.eventTime().toInstant().toEpochMilli()).isEqualTo(s.eventMillis());
        assertThat(row.ingestTime().toInstant())
            .isBetween(before.minusMillis(1), after.plusMillis(1));
      }

      var table = env.table();
      Set<Object> hours = new HashSet<>();
      try (CloseableIterable<FileScanTask> tasks =
          table.newScan().includeColumnStats().planFiles()) {
        for (FileScanTask t : tasks) {
          int hour = t.file().partition().get(0, Integer.class);
          hours.add(hour);
          assertThat(t.file().location()).startsWith("s3://floe/warehouse/");
          assertThat(t.file().sortOrderId()).isEqualTo(table.sortOrder().orderId());
          // the file's column bounds are its rows' (the writer reuses one buffer for every key)
          List<TableEnv.Row> inFile =
              rows.stream().filter(r -> r.eventTime().toEpochSecond() / 3600 == hour).toList();
          List<String> keys =
              inFile.stream().map(TableEnv.Row::key).filter(k -> k != null).sorted().toList();
          assertThat(bound(t.file().lowerBounds(), EventsTable.EVENT_KEY_ID))
              .isEqualTo(keys.get(0));
          assertThat(bound(t.file().upperBounds(), EventsTable.EVENT_KEY_ID))
              .isEqualTo(keys.get(keys.size() - 1));
          assertThat(t.file().nullValueCounts().get(EventsTable.EVENT_KEY_ID))
              .isEqualTo(inFile.stream().filter(r -> r.key() == null).count());
          assertThat(
                  Conversions.<Long>fromByteBuffer(
                      Types.TimestampType.withZone(),
                      t.file().lowerBounds().get(EventsTable.EVENT_TIME_ID)))
              .isEqualTo(
                  inFile.stream()
                      .mapToLong(r -> DateTimeUtil.microsFromTimestamptz(r.eventTime()))
                      .min()
                      .orElseThrow());
        }
      }
      assertThat(hours).hasSize(3);
      assertThat(table.properties())
          .containsEntry(FloeTableKeys.partitionCommittedSequence(2), "300");
      // within each file rows are in (stream, event_time) order: the table's sort order
      List<OffsetDateTime> clicksTimes =
          rows.stream()
              .filter(r -> r.stream().equals("clicks"))
              .map(TableEnv.Row::eventTime)
              .toList();
      assertThat(clicksTimes).isSorted();

      String metrics =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics)
          .contains("floe_flush_events_total 300.0")
          .contains("floe_commit_retries_total")
          .contains("floe_commit_attempts_total");
    }
  }

  private static String bound(Map<Integer, ByteBuffer> bounds, int fieldId) {
    return Conversions.fromByteBuffer(Types.StringType.get(), bounds.get(fieldId)).toString();
  }

  @Test
  void columnsWhoseValuesNeverRepeatAreWrittenWithoutADictionary() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = Node.start(NodeConfig.load(Settings.of(env.nodeSettings(0))))) {
      // payloads repeat (8 distinct) and so do event times (none given: the ingest time), so
      // Parquet would keep a dictionary for them; each event's sequence is its own
      List<String> payloads = new ArrayList<>();
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 400; i++) {
        String payload = "{\"key\":\"k" + i % 3 + "\",\"v\":" + i % 8 + "}";
        payloads.add(payload);
        body.append(payload).append('\n');
      }
      assertThat(
              post(
                      http,
                      node.port(),
                      "/v1/streams/s/events",
                      "application/x-ndjson",
                      body.toString())
                  .statusCode())
          .isEqualTo(200);
      flush(http, node.port());

      assertThat(env.rows())
          .extracting(TableEnv.Row::payload)
          .containsExactlyInAnyOrderElementsOf(payloads);
      List<Path> files;
      try (var walk = Files.walk(tmp.resolve("s3"))) {
        files = walk.filter(f -> f.toString().endsWith(".parquet")).toList();
      }
      assertThat(files).hasSize(1);
      Map<String, Boolean> dictionary = new HashMap<>();
      try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(files.get(0)))) {
        for (BlockMetaData block : reader.getFooter().getBlocks()) {
          for (ColumnChunkMetaData column : block.getColumns()) {
            dictionary.merge(
                column.getPath().toDotString(), column.hasDictionaryPage(), Boolean::logicalOr);
          }
        }
      }
      assertThat(dictionary)
          .containsEntry("payload", false)
          .containsEntry("sequence", false)
          .containsEntry("event_time", false)
          .containsEntry("stream", true)
          .containsEntry("event_key", true);
    }
  }

  @Test
  void anUnreachableCatalogIsRetriedUntilTheStartupTimeout() throws Exception {
    int port = FreePort.pick();
    Map<String, String> s = new HashMap<>();
    s.put("http.port", "0");
    s.put("auth.disabled", "true");
    s.put("buffer.dir", tmp.resolve("node").toString());
    s.put("catalog.uri", "http://127.0.0.1:" + port);
    s.put("catalog.startup-timeout-seconds", "2");
    long start = System.nanoTime();
    Assertions.assertThatThrownBy(() -> Node.start(NodeConfig.load(Settings.of(s))))
        .isInstanceOf(CatalogUnavailableException.class)
        .hasMessageContaining("catalog not reachable within 2 s (catalog.startup-timeout-seconds)");
    assertThat(System.nanoTime() - start).isGreaterThan(TimeUnit.SECONDS.toNanos(2));
  }

  @Test
  void maxAgeFlushesWithoutBeingAsked() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Map<String, String> s = env.nodeSettings(0);
      s.put("flush.max-age-seconds", "0.5");
      try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
        assertThat(
                post(
                        http,
                        node.port(),
                        "/v1/streams/s/events",
                        "application/json",
                        "[{\"a\":1},{\"a\":2}]")
                    .statusCode())
            .isEqualTo(200);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (node.buffer().committedSequence() < 2) {
          assertThat(System.nanoTime()).as("flushed by age").isLessThan(deadline);
          Thread.sleep(50);
        }
        assertThat(env.rows())
            .extracting(TableEnv.Row::payload)
            .containsExactlyInAnyOrder("{\"a\":1}", "{\"a\":2}");
      }
    }
  }
}
