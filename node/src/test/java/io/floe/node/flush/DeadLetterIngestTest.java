package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.floe.node.event.DeadLetterBatch;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Dead letters at ingest, on one node whose stream policies come from the table (set through the
 * catalog service's API): which records become dead letters, what the answer says, what the buffer
 * holds (events and dead letters from one write), and what a policy of reject still refuses.
 */
class DeadLetterIngestTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir Path tmp;

  private static final String MIXED =
      String.join(
          "\n",
          "{\"id\":1,\"qty\":1}",
          "{\"id\":2,\"qty\":",
          "{\"id\":3,\"qty\":3}",
          "[1,2]",
          "{\"id\":5,\"event_time\":\"yesterday\"}",
          "{\"id\":6,\"key\":{\"a\":1}}",
          "{\"id\":7,\"qty\":\"seven\"}",
          "  {\"id\":8}\r",
          "");

  @Test
  void aMixedRequestStoresItsGoodRecordsAndKeepsItsBadOnesInOneWrite() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env, Map.of())) {
      assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "reject", null).statusCode())
          .isEqualTo(201);
      assertThat(setPolicy(env, "orders-*", "dead_letter").statusCode()).isEqualTo(200);
      node.refreshColumns();
      long hwm = node.buffer().highWaterMark();

      HttpResponse<String> r = post(node.port(), "orders-eu", "application/x-ndjson", MIXED, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonObject answer = new JsonObject(r.body());
      assertThat(answer.getLong("accepted")).isEqualTo(3);
      assertThat(answer.getInteger("dead_lettered")).isEqualTo(5);
      assertThat(answer.getLong("first_sequence")).isEqualTo(hwm + 1);
      assertThat(answer.getLong("last_sequence")).isEqualTo(hwm + 3);
      assertThat(answer.getLong("dead_letters_first_sequence")).isEqualTo(hwm + 4);
      assertThat(answer.getLong("dead_letters_last_sequence")).isEqualTo(hwm + 8);
      JsonArray reasons = answer.getJsonArray("dead_letters");
      assertThat(reasons).hasSize(5);
      List<String> lineCodes = new ArrayList<>();
      for (Object o : reasons) {
        JsonObject reason = (JsonObject) o;
        lineCodes.add(reason.getInteger("line") + ":" + reason.getString("code"));
      }
      assertThat(lineCodes)
          .containsExactly(
              "2:malformed_json",
              "4:not_an_object",
              "5:bad_event_time",
              "6:bad_key",
              "7:column_mismatch");

      // the buffer holds both, from the same write: sequences follow each other
      assertThat(node.buffer().highWaterMark()).isEqualTo(hwm + 8);
      List<DeadLetterBatch> dead = deadLetters(node);
      assertThat(dead).hasSize(1);
      DeadLetterBatch batch = dead.get(0);
      assertThat(batch.context().stream()).isEqualTo("orders-eu");
      assertThat(batch.context().contentType()).isEqualTo("application/x-ndjson");
      assertThat(batch.context().principal()).isEqualTo("anonymous");
      assertThat(batch.context().requestId()).isNotBlank();
      List<String> raws = new ArrayList<>();
      batch.records().forEach(d -> raws.add(new String(d.raw(), StandardCharsets.UTF_8)));
      assertThat(raws)
          .containsExactly(
              "{\"id\":2,\"qty\":",
              "[1,2]",
              "{\"id\":5,\"event_time\":\"yesterday\"}",
              "{\"id\":6,\"key\":{\"a\":1}}",
              "{\"id\":7,\"qty\":\"seven\"}");
      assertThat(batch.records()).allSatisfy(d -> assertThat(d.truncated()).isFalse());

      String metrics = new Ingest().get(node.port(), "/metrics").body();
      assertThat(metrics)
          .contains("floe_dead_letters_total{code=\"malformed_json\",stream=\"orders-eu\"} 1.0");
    }
  }

  @Test
  void aFlushCommitsEventsAndDeadLettersEachToItsTableOnce() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env, Map.of())) {
      setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url(node.port(), "orders")))
                  // parameters are not kept: only the media type reaches the table
                  .header("Content-Type", "application/x-ndjson; charset=utf-8; note=s3cr3t")
                  .header("Idempotency-Key", "batch-7")
                  .header("X-Request-Id", "req-7")
                  .POST(HttpRequest.BodyPublishers.ofString(MIXED))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      // a request of only dead letters last: the flush must still reach its sequences
      assertThat(post(node.port(), "orders", "application/x-ndjson", "oops\n", null).statusCode())
          .isEqualTo(200);
      long hwm = node.buffer().highWaterMark();
      assertThat(node.flusher().flushNow().get()).isEqualTo(hwm);
      assertThat(node.buffer().deadLettersPending()).isFalse();
      assertThat(deadLetters(node)).isEmpty();

      assertThat(env.rows()).hasSize(4);
      List<Record> dead = deadLetterRows(env);
      assertThat(dead).hasSize(5);
      Map<Long, Record> bySequence = new HashMap<>();
      dead.forEach(d -> bySequence.put((Long) d.getField("sequence"), d));
      Set<Long> eventSequences = new HashSet<>();
      env.rows().forEach(row -> eventSequences.add(row.sequence()));
      assertThat(bySequence.keySet()).doesNotContainAnyElementsOf(eventSequences);
      Record first =
          dead.stream()
              .filter(d -> "req-7".equals(d.getField("request_id")))
              .findFirst()
              .orElseThrow();
      assertThat(first.getField("stream")).isEqualTo("orders");
      assertThat(first.getField("partition_id")).isEqualTo(0);
      assertThat(first.getField("error_code")).isEqualTo("malformed_json");
      assertThat(first.getField("position")).isEqualTo(2);
      assertThat(StandardCharsets.UTF_8.decode((ByteBuffer) first.getField("raw")).toString())
          .isEqualTo("{\"id\":2,\"qty\":");
      assertThat(first.getField("raw_truncated")).isEqualTo(false);
      assertThat(first.getField("content_type")).isEqualTo("application/x-ndjson");
      assertThat(first.getField("principal")).isEqualTo("anonymous");
      assertThat(first.getField("idempotency_key")).isEqualTo("batch-7");
      assertThat(first.getField("replay_count")).isEqualTo(0);
      assertThat(env.service.catalog().loadTable(deadLetterId()).properties())
          .containsEntry(FloeTableKeys.partitionCommittedSequence(0), Long.toString(hwm));

      // nothing flushes twice: a second flush finds nothing, a restart finds nothing
      node.flusher().flushNow().get();
      assertThat(deadLetterRows(env)).hasSize(5);
    }
  }

  static TableIdentifier deadLetterId() {
    return DeadLetterTable.identifier(TableSettings.defaults());
  }

  static List<Record> deadLetterRows(TableEnv env) throws Exception {
    List<Record> out = new ArrayList<>();
    try (CloseableIterable<Record> rows =
        IcebergGenerics.read(env.service.catalog().loadTable(deadLetterId())).build()) {
      rows.forEach(r -> out.add(r.copy()));
    }
    return out;
  }

  @Test
  void theSameIdempotencyKeyGetsTheSameAnswerAndStoresNothingMore() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env, Map.of())) {
      setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      HttpResponse<String> first =
          post(node.port(), "orders", "application/x-ndjson", MIXED, "k-1");
      long hwm = node.buffer().highWaterMark();
      HttpResponse<String> again =
          post(node.port(), "orders", "application/x-ndjson", MIXED, "k-1");
      assertThat(again.statusCode()).isEqualTo(200);
      assertThat(again.body()).isEqualTo(first.body());
      assertThat(again.headers().firstValue("Idempotency-Replayed")).contains("true");
      assertThat(node.buffer().highWaterMark()).isEqualTo(hwm);
      assertThat(deadLetters(node)).hasSize(1);
      assertThat(deadLetters(node).get(0).context().idempotencyKey()).isEqualTo("k-1");

      // other bad records under the same key: a different request
      HttpResponse<String> other =
          post(node.port(), "orders", "application/x-ndjson", MIXED.replace("[1,2]", "[1]"), "k-1");
      assertThat(other.statusCode()).isEqualTo(422);
    }
  }

  /**
   * A retry of an acknowledged request is answered what it was answered, whatever its stream's
   * policy became since: the same bytes under the same key are the same request, even where they
   * would now decode otherwise (refused whole under reject, or asking for dead letters the stream
   * no longer allows).
   */
  @Test
  void aRetryGetsItsFirstAnswerAfterThePolicyChanged() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env, Map.of())) {
      setPolicy(env, "orders", "dead_letter");
      setPolicy(env, "clicks", "per_request");
      node.refreshColumns();
      HttpResponse<String> first =
          post(node.port(), "orders", "application/x-ndjson", MIXED, "k-policy");
      assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
      HttpResponse<String> asked =
          send(node.port(), "clicks", MIXED, "k-asked", "Floe-On-Error", "dead-letter");
      assertThat(asked.statusCode()).as(asked.body()).isEqualTo(200);
      long hwm = node.buffer().highWaterMark();

      setPolicy(env, "orders", "reject");
      setPolicy(env, "clicks", "reject");
      node.refreshColumns();
      HttpResponse<String> again =
          post(node.port(), "orders", "application/x-ndjson", MIXED, "k-policy");
      assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
      assertThat(again.body()).isEqualTo(first.body());
      assertThat(again.headers().firstValue("Idempotency-Replayed")).contains("true");
      HttpResponse<String> askedAgain =
          send(node.port(), "clicks", MIXED, "k-asked", "Floe-On-Error", "dead-letter");
      assertThat(askedAgain.statusCode()).as(askedAgain.body()).isEqualTo(200);
      assertThat(askedAgain.body()).isEqualTo(asked.body());
      // what the policy refuses is still refused without the key, or under a new one
      assertThat(post(node.port(), "orders", "application/x-ndjson", MIXED, null).statusCode())
          .isEqualTo(400);
      HttpResponse<String> refused =
          send(node.port(), "clicks", MIXED, "k-new", "Floe-On-Error", "dead-letter");
      assertThat(new JsonObject(refused.body()).getString("error"))
          .isEqualTo("dead_letters_not_allowed");
      // another request under the key: refused, as before the change
      HttpResponse<String> other =
          post(node.port(), "orders", "application/x-ndjson", "{\"id\":9}\n", "k-policy");
      assertThat(other.statusCode()).as(other.body()).isEqualTo(422);

      // and back: dead letters again, the same answer again
      setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      HttpResponse<String> third =
          post(node.port(), "orders", "application/x-ndjson", MIXED, "k-policy");
      assertThat(third.body()).isEqualTo(first.body());
      assertThat(node.buffer().highWaterMark()).as("nothing written twice").isEqualTo(hwm);
      assertThat(deadLetters(node)).hasSize(2);
    }
  }

  /**
   * A column mapping that changed since the first answer (a value that fitted no longer fits a
   * {@code reject} column) does not change the answer a retry gets.
   */
  @Test
  void aRetryGetsItsFirstAnswerAfterTheMappingChanged() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env, Map.of())) {
      setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      String body = "{\"id\":1,\"qty\":\"seven\"}\n{\"id\":2,\"qty\":2}\n";
      HttpResponse<String> first =
          post(node.port(), "orders", "application/x-ndjson", body, "k-mapping");
      assertThat(new JsonObject(first.body()).getLong("accepted")).isEqualTo(2);
      long hwm = node.buffer().highWaterMark();

      assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "reject", null).statusCode())
          .isEqualTo(201);
      node.refreshColumns();
      HttpResponse<String> again =
          post(node.port(), "orders", "application/x-ndjson", body, "k-mapping");
      assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
      assertThat(again.body()).isEqualTo(first.body());
      assertThat(node.buffer().highWaterMark()).isEqualTo(hwm);
      assertThat(deadLetters(node)).isEmpty();
      // the mapping applies to what is new
      HttpResponse<String> fresh =
          post(node.port(), "orders", "application/x-ndjson", body, "k-fresh");
      assertThat(new JsonObject(fresh.body()).getInteger("dead_lettered")).isEqualTo(1);
      HttpResponse<String> other =
          post(
              node.port(),
              "orders",
              "application/x-ndjson",
              body.replace("seven", "eight"),
              "k-mapping");
      assertThat(other.statusCode()).as(other.body()).isEqualTo(422);
    }
  }

  @Test
  void underRejectTheWholeRequestIsRefusedAndAskingForDeadLettersIsRefusedToo() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env, Map.of())) {
      long hwm = node.buffer().highWaterMark();
      HttpResponse<String> r = post(node.port(), "orders", "application/x-ndjson", MIXED, null);
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getString("detail")).startsWith("line 2");
      r = postWith(node.port(), "orders", "application/x-ndjson", MIXED, "dead-letter");
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("dead_letters_not_allowed");
      r = postWith(node.port(), "orders", "application/x-ndjson", MIXED, "drop");
      assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("bad_on_error");

      // per_request: reject unless the request asks
      setPolicy(env, "orders", "per_request");
      node.refreshColumns();
      assertThat(post(node.port(), "orders", "application/x-ndjson", MIXED, null).statusCode())
          .isEqualTo(400);
      assertThat(node.buffer().highWaterMark()).isEqualTo(hwm);
      r = postWith(node.port(), "orders", "application/x-ndjson", MIXED, "dead-letter");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).isEqualTo(4);

      // a dead-letter stream still refuses what is wrong with the request itself
      setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      assertThat(post(node.port(), "orders", "text/plain", MIXED, null).statusCode())
          .isEqualTo(415);
      assertThat(
              postWith(node.port(), "orders", "application/x-ndjson", MIXED, "reject").statusCode())
          .isEqualTo(400);
    }
  }

  @Test
  void jsonArraysAndMessagePackKeepBadElementsButBrokenFramingRefusesTheRequest() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env, Map.of())) {
      setPolicy(env, "*", "dead_letter");
      node.refreshColumns();
      HttpResponse<String> r =
          post(
              node.port(),
              "clicks",
              "application/json",
              "[{\"a\":1}, 7, {\"key\":[1], \"b\":{\"c\":[1,2]}}, {\"a\":2}]",
              null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonObject answer = new JsonObject(r.body());
      assertThat(answer.getLong("accepted")).isEqualTo(2);
      assertThat(answer.getJsonArray("dead_letters").getJsonObject(1).getMap())
          .containsEntry("element", 3)
          .containsEntry("code", "bad_key");
      List<DeadLetterBatch> dead = deadLetters(node);
      assertThat(new String(dead.get(0).records().get(1).raw(), StandardCharsets.UTF_8))
          .isEqualTo("{\"key\":[1], \"b\":{\"c\":[1,2]}}");

      // no record boundary after broken JSON: the whole request is refused, nothing stored
      long hwm = node.buffer().highWaterMark();
      r = post(node.port(), "clicks", "application/json", "[{\"a\":1}, {\"a\":}, {\"a\":2}]", null);
      assertThat(r.statusCode()).isEqualTo(400);
      assertThat(node.buffer().highWaterMark()).isEqualTo(hwm);

      // only bad records: 200, all dead-lettered
      r = post(node.port(), "clicks", "application/x-ndjson", "nope\n[]\n", null);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(r.body()).getLong("accepted")).isZero();
      assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).isEqualTo(2);

      MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
      p.packArrayHeader(3);
      p.packMapHeader(1).packString("a").packInt(1);
      p.packString("not a map");
      p.packMapHeader(1).packString("event_time").packString("never");
      byte[] msgpack = p.toByteArray();
      r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url(node.port(), "clicks")))
                  .header("Content-Type", "application/msgpack")
                  .POST(HttpRequest.BodyPublishers.ofByteArray(msgpack))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      answer = new JsonObject(r.body());
      assertThat(answer.getLong("accepted")).isEqualTo(1);
      assertThat(answer.getInteger("dead_lettered")).isEqualTo(2);
      DeadLetterBatch last = deadLetters(node).get(deadLetters(node).size() - 1);
      assertThat(last.records().get(0).code()).isEqualTo("not_an_object");
      assertThat(last.records().get(1).code()).isEqualTo("bad_event_time");
      assertThat(last.records().get(1).position()).isEqualTo(3);
    }
  }

  @Test
  void rawBytesOverTheLimitAreCutAndFlagged() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env, Map.of("dead-letter.max-raw-bytes", "16"))) {
      setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      String bad = "{\"id\":\"" + "x".repeat(100) + "\",\"event_time\":true}";
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(URI.create(url(node.port(), "orders")))
                  .header("Content-Type", "application/x-ndjson")
                  .header("Authorization", "Bearer not-kept")
                  .header("X-Request-Id", "req-42")
                  .POST(HttpRequest.BodyPublishers.ofString(bad + "\n{\"ok\":1}\n"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      DeadLetterBatch.Record record = deadLetters(node).get(0).records().get(0);
      assertThat(record.truncated()).isTrue();
      assertThat(record.originalLength()).isEqualTo(bad.length());
      assertThat(new String(record.raw(), StandardCharsets.UTF_8)).isEqualTo(bad.substring(0, 16));
      assertThat(deadLetters(node).get(0).context().requestId()).isEqualTo("req-42");
      assertThat(new String(deadLetters(node).get(0).toByteArray(), StandardCharsets.ISO_8859_1))
          .doesNotContain("not-kept");
    }
  }

  static List<DeadLetterBatch> deadLetters(Node node) throws Exception {
    List<DeadLetterBatch> out = new ArrayList<>();
    node.buffer()
        .forEachDeadLetters(
            node.buffer().deadLettersCommitted(),
            (first, batch) -> {
              out.add(batch);
              return true;
            });
    return out;
  }

  static HttpResponse<String> setPolicy(TableEnv env, String pattern, String onError)
      throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(env.catalogUri() + "/floe/v1/streams/" + pattern))
            .header("Authorization", "Bearer " + TableEnv.OPERATOR_TOKEN)
            .header("Content-Type", "application/json")
            .PUT(
                HttpRequest.BodyPublishers.ofString(
                    new JsonObject().put("on_error", onError).encode()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String url(int port, String stream) {
    return "http://127.0.0.1:" + port + "/v1/streams/" + stream + "/events";
  }

  /**
   * Maps {@code qty} as a long that refuses other values and sets {@code dead_letter} for {@code
   * streams}: a record with a non-numeric qty becomes a dead letter; {@code node} follows at once.
   */
  static void qtyMismatchesAreDeadLettered(TableEnv env, Node node, String streams)
      throws Exception {
    assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "reject", null).statusCode())
        .isEqualTo(201);
    assertThat(setPolicy(env, streams, "dead_letter").statusCode()).isEqualTo(200);
    node.refreshColumns();
  }

  static HttpResponse<String> post(
      int port, String stream, String contentType, String body, String idempotencyKey)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url(port, stream)))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (idempotencyKey != null) {
      b.header("Idempotency-Key", idempotencyKey);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Posts NDJSON {@code body} under {@code idempotencyKey}, then header name, value pairs. */
  private static HttpResponse<String> send(
      int port, String stream, String body, String idempotencyKey, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url(port, stream)))
            .header("Content-Type", "application/x-ndjson")
            .header("Idempotency-Key", idempotencyKey)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> postWith(
      int port, String stream, String contentType, String body, String onError) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(url(port, stream)))
            .header("Content-Type", contentType)
            .header("Floe-On-Error", onError)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static Node node(TableEnv env, Map<String, String> extra) throws Exception {
    Map<String, String> s = env.nodeSettings(0);
    s.put("columns.refresh-seconds", "1");
    s.putAll(extra);
    return Node.start(NodeConfig.load(Settings.of(s)));
  }
}
