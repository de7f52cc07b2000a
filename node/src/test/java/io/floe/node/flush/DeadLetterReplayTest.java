package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.local.FloeCli;
import io.floe.node.Node;
import io.floe.node.decode.FieldNames;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay of dead letters on one node: fix the cause (a typed column's mismatch policy), replay by
 * error code, and the records become events once; a replay repeated finds nothing left; what fails
 * again stays a dead letter with its replay count raised, and each replay is recorded in the table.
 */
class DeadLetterReplayTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir Path tmp;

  @Test
  void aFixedCauseReplaysEachDeadLetterOnceAndRecordsIt() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = DeadLetterIngestTest.node(env, Map.of())) {
      DeadLetterIngestTest.qtyMismatchesAreDeadLettered(env, node, "orders");
      String body =
          "{\"id\":1,\"qty\":1}\n{\"id\":2,\"qty\":\"two\"}\n{\"id\":3,\"qty\":\"three\"}\n{\"id\":4,\n";
      HttpResponse<String> r =
          DeadLetterIngestTest.post(node.port(), "orders", "application/x-ndjson", body, null);
      assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).isEqualTo(3);
      node.flusher().flushNow().get();

      JsonArray pending = list(node, "");
      assertThat(pending).hasSize(3);
      assertThat(pending.getJsonObject(0).getString("code")).isEqualTo("column_mismatch");

      // scripts/floe dead-letter list and show, against this node
      String nodes = "http://127.0.0.1:" + node.port();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      FloeCli cli =
          new FloeCli(
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      assertThat(cli.run(new String[] {"dead-letter", "list", "--nodes", nodes})).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8))
          .containsPattern("0-\\d+\\s+orders\\s+column_mismatch\\s+2")
          .contains("malformed_json");
      String firstId = pending.getJsonObject(0).getString("id");
      assertThat(cli.run(new String[] {"dead-letter", "show", firstId, "--nodes", nodes})).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).contains("{\"id\":2,\"qty\":\"two\"}");

      // the fix: mismatches are written as null (the payload keeps the value)
      assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "null", null).statusCode())
          .isEqualTo(200);
      node.refreshColumns();
      JsonObject done = replay(node, new JsonObject().put("code", "column_mismatch"));
      assertThat(done.getInteger("replayed")).isEqualTo(2);
      assertThat(done.getInteger("failed_again")).isZero();
      assertThat(payloads(env))
          .containsExactlyInAnyOrder(
              "{\"id\":1,\"qty\":1}", "{\"id\":2,\"qty\":\"two\"}", "{\"id\":3,\"qty\":\"three\"}");

      // repeated: nothing is left to replay, nothing is written again
      done = replay(node, new JsonObject().put("code", "column_mismatch"));
      assertThat(done.getJsonArray("ids")).isEmpty();
      assertThat(payloads(env)).hasSize(3);

      // the broken line fails again (replayed by the CLI): a new dead letter, replay count 1,
      // pointing at the first
      String brokenId = list(node, "").getJsonObject(0).getString("id");
      assertThat(cli.run(new String[] {"dead-letter", "replay", "--nodes", nodes})).isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).contains("0 became events, 1 failed again");
      JsonArray left = list(node, "");
      assertThat(left).hasSize(1);
      assertThat(left.getJsonObject(0).getInteger("replay_count")).isEqualTo(1);
      assertThat(left.getJsonObject(0).getString("id")).isNotEqualTo(brokenId);

      List<String> replayOf = new ArrayList<>();
      for (Record d : DeadLetterIngestTest.deadLetterRows(env)) {
        if (d.getField("replay_of") != null) {
          replayOf.add(d.getField("error_code") + " of " + d.getField("replay_of"));
        }
      }
      assertThat(replayOf).hasSize(3).contains("malformed_json of " + brokenId);
      assertThat(replayOf.stream().filter(s -> s.startsWith("replayed of "))).hasSize(2);
      assertThat(payloads(env)).hasSize(3);

      // bad filters are refused
      HttpResponse<String> bad =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create("http://127.0.0.1:" + node.port() + "/floe/v1/dead-letter/replay"))
                  .POST(HttpRequest.BodyPublishers.ofString("{\"since\":\"yesterday\"}"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(bad.body()).getString("detail")).contains("since must be");
    }
  }

  @Test
  void aReplayReadsTheKeyAndTimeWhereTheRequestSaidTheyAre() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = DeadLetterIngestTest.node(env, Map.of())) {
      DeadLetterIngestTest.qtyMismatchesAreDeadLettered(env, node, "orders");
      long ts = 1_767_323_045_000L; // 2026-01-02T03:04:05Z
      String line = "{\"order\":\"o-7\",\"ts\":" + ts + ",\"qty\":\"seven\"}";
      HttpResponse<String> r =
          postToOrders(
              node,
              "key_field=order&time_field=ts",
              "application/x-ndjson; charset=utf-8",
              line + "\n");
      assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).as(r.body()).isEqualTo(1);
      node.flusher().flushNow().get();
      assertThat(
              DeadLetterIngestTest.deadLetterRows(env).get(0).getField("content_type").toString())
          .isEqualTo("application/x-ndjson; floe-key-field=order; floe-time-field=ts");

      assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "null", null).statusCode())
          .isEqualTo(200);
      node.refreshColumns();
      assertThat(replay(node, new JsonObject()).getInteger("replayed")).isEqualTo(1);

      TableEnv.Row event = env.rows().get(0);
      assertThat(event.key()).isEqualTo("o-7");
      assertThat(event.eventTime().toInstant().toEpochMilli()).isEqualTo(ts);
    }
  }

  /** Posts {@code body} to the stream {@code orders} with the query parameters {@code query}. */
  private static HttpResponse<String> postToOrders(
      Node node, String query, String contentType, String body) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:" + node.port() + "/v1/streams/orders/events?" + query))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /**
   * A key_field longer than a dead letter can record is refused with the request (nothing written):
   * it was accepted, and its dead letters replayed with the node's default names (the key lost, the
   * event time the replay's).
   */
  @Test
  void aFieldNameTooLongToRecordIsRefusedAndWritesNothing() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = DeadLetterIngestTest.node(env, Map.of())) {
      DeadLetterIngestTest.setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      for (int length : new int[] {FieldNames.MAX_NAME_LENGTH + 1, FieldNames.MAX_NAME_LENGTH}) {
        String name = "k".repeat(length);
        HttpResponse<String> r =
            postToOrders(
                node,
                "key_field=" + name,
                "application/x-ndjson",
                "{\"" + name + "\":\"o-1\"}\nnot json\n");
        if (length > FieldNames.MAX_NAME_LENGTH) {
          assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
          assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("bad_field_name");
          assertThat(node.buffer().highWaterMark()).as("nothing written").isZero();
        } else {
          assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
          assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).isEqualTo(1);
        }
      }
    }
  }

  @Test
  void aCutRecordThatFailsAgainStaysCutAndIsNeverReadAsWhole() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = DeadLetterIngestTest.node(env, Map.of("dead-letter.max-raw-bytes", "64"))) {
      DeadLetterIngestTest.setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      // a malformed line of 212 bytes whose first 64 bytes, alone, would be the same broken JSON
      String line = "{\"id\":5,\"pad\":\"" + "x".repeat(200) + "\"";
      HttpResponse<String> r =
          DeadLetterIngestTest.post(
              node.port(), "orders", "application/x-ndjson", line + "\n", null);
      assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).isEqualTo(1);
      node.flusher().flushNow().get();

      for (int round = 1; round <= 2; round++) {
        JsonObject done = replay(node, new JsonObject());
        assertThat(done.getInteger("failed_again")).as("round %d", round).isEqualTo(1);
        JsonArray left = list(node, "");
        assertThat(left).hasSize(1);
        JsonObject d = left.getJsonObject(0);
        assertThat(d.getString("code")).isEqualTo("raw_truncated");
        assertThat(d.getBoolean("raw_truncated"))
            .as("still the cut bytes of a longer record")
            .isTrue();
        assertThat(d.getInteger("raw_length")).isEqualTo(line.length());
        assertThat(Base64.getDecoder().decode(d.getString("raw_base64")))
            .isEqualTo(line.substring(0, 64).getBytes(StandardCharsets.UTF_8));
        assertThat(d.getInteger("replay_count")).isEqualTo(round);
        // each failed replay is a dead letter written again: counted as one
        assertThat(new Ingest().get(node.port(), "/metrics").body())
            .contains(
                "floe_dead_letters_total{code=\"raw_truncated\",stream=\"orders\"} "
                    + round
                    + ".0");
      }
      assertThat(payloads(env)).isEmpty();
    }
  }

  /**
   * A replay of more dead letters than {@code idempotency.max-keys} leaves the producers' keys
   * alone: a producer's retry after it lost the acknowledgement (before the replay) is still
   * answered as the first request and stored once. Replay writes carried a key each, in the same
   * bounded index, and forgot the producer's key: the retry was stored a second time.
   */
  @Test
  void aBigReplayDoesNotForgetAProducersIdempotencyKey() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = DeadLetterIngestTest.node(env, Map.of("idempotency.max-keys", "5"))) {
      DeadLetterIngestTest.qtyMismatchesAreDeadLettered(env, node, "orders");
      String keyed = "{\"id\":1,\"qty\":1}\n";
      HttpResponse<String> first =
          DeadLetterIngestTest.post(node.port(), "orders", "application/x-ndjson", keyed, "k-1");
      assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
      StringBuilder bad = new StringBuilder();
      for (int i = 2; i <= 8; i++) {
        bad.append("{\"id\":").append(i).append(",\"qty\":\"many\"}\n");
      }
      HttpResponse<String> r =
          DeadLetterIngestTest.post(
              node.port(), "orders", "application/x-ndjson", bad.toString(), null);
      assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).isEqualTo(7);
      node.flusher().flushNow().get();

      assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "null", null).statusCode())
          .isEqualTo(200);
      node.refreshColumns();
      assertThat(replay(node, new JsonObject()).getInteger("replayed")).isEqualTo(7);

      HttpResponse<String> retry =
          DeadLetterIngestTest.post(node.port(), "orders", "application/x-ndjson", keyed, "k-1");
      assertThat(retry.statusCode()).as(retry.body()).isEqualTo(200);
      assertThat(retry.headers().firstValue("Idempotency-Replayed")).hasValue("true");
      assertThat(new JsonObject(retry.body())).isEqualTo(new JsonObject(first.body()));
      node.flusher().flushNow().get();
      assertThat(payloads(env)).hasSize(8).containsOnlyOnce(keyed.trim());
    }
  }

  private static List<String> payloads(TableEnv env) throws Exception {
    List<String> out = new ArrayList<>();
    env.rows().forEach(r -> out.add(r.payload()));
    return out;
  }

  static JsonArray list(Node node, String query) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + node.port() + "/floe/v1/dead-letter" + query))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getJsonArray("dead_letters");
  }

  static JsonObject replay(Node node, JsonObject filter) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + node.port() + "/floe/v1/dead-letter/replay"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(filter.encode()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body());
  }
}
