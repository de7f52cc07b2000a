package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.local.FloeCli;
import io.floe.node.Node;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Lists and replays read a partition's dead letters in bounded memory: the filters are the table
 * scan's (the rows of other streams, codes and times never reach the node), and at most {@code
 * dead-letter.read-budget-bytes} of raw bytes are held at once: a list stops there and says where
 * the next one goes on ({@code truncated}, {@code next_after}), a replay goes on in chunks.
 */
class DeadLetterReadBudgetTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir Path tmp;

  /** Each bad line: 40 bytes; the budget: 256 bytes, so at most 6 of them at once. */
  private static final Map<String, String> SMALL_BUDGET =
      Map.of("dead-letter.max-raw-bytes", "64", "dead-letter.read-budget-bytes", "256");

  @Test
  void aSmallBudgetListsInPagesAndReplaysEveryDeadLetterOnceInChunks() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = DeadLetterIngestTest.node(env, SMALL_BUDGET)) {
      DeadLetterIngestTest.qtyMismatchesAreDeadLettered(env, node, "orders");
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < 60; i++) {
        lines.add(String.format("{\"id\":\"%04d\",\"qty\":\"n/a\",\"pad\":\"xxxxxx\"}", i));
      }
      assertThat(lines.get(0)).hasSize(40);
      HttpResponse<String> r =
          DeadLetterIngestTest.post(
              node.port(), "orders", "application/x-ndjson", String.join("\n", lines) + "\n", null);
      assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).as(r.body()).isEqualTo(60);
      node.flusher().flushNow().get();

      // the list: pages of at most 256 raw bytes, each going on after the last
      Set<String> listed = new HashSet<>();
      List<String> raws = new ArrayList<>();
      String after = null;
      int pages = 0;
      while (true) {
        JsonObject page = listAnswer(node, after == null ? "" : "?after=" + after);
        pages++;
        JsonArray items = page.getJsonArray("dead_letters");
        assertThat(items.size()).as("a page holds at most 256 raw bytes").isBetween(1, 6);
        for (Object o : items) {
          JsonObject d = (JsonObject) o;
          assertThat(listed.add(d.getString("id"))).as("listed once: %s", d).isTrue();
          raws.add(
              new String(
                  Base64.getDecoder().decode(d.getString("raw_base64")), StandardCharsets.UTF_8));
        }
        if (!page.getBoolean("truncated")) {
          assertThat(page.containsKey("next_after")).isFalse();
          break;
        }
        after = page.getString("next_after");
        assertThat(after).isEqualTo(items.getJsonObject(items.size() - 1).getString("id"));
        assertThat(pages).isLessThan(60);
      }
      assertThat(pages).isEqualTo(10);
      assertThat(raws).containsExactlyElementsOf(lines);
      // scripts/floe dead-letter list says where to go on
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      FloeCli cli =
          new FloeCli(
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8));
      String nodes = "http://127.0.0.1:" + node.port();
      assertThat(cli.run(new String[] {"dead-letter", "list", "--nodes", nodes})).isZero();
      String firstPageEnd = new JsonObject(listAnswer(node, "").encode()).getString("next_after");
      assertThat(err.toString(StandardCharsets.UTF_8)).contains("--after " + firstPageEnd);
      err.reset();
      assertThat(
              cli.run(
                  new String[] {"dead-letter", "list", "--nodes", nodes, "--after", "0-1000000"}))
          .isZero();
      assertThat(err.toString(StandardCharsets.UTF_8)).isEmpty();

      // the fix, then replays of 25 at a time: each reads at most 256 raw bytes at once
      assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "null", null).statusCode())
          .isEqualTo(200);
      node.refreshColumns();
      Set<String> replayed = new HashSet<>();
      List<Integer> counts = new ArrayList<>();
      while (true) {
        JsonObject done = DeadLetterReplayTest.replay(node, new JsonObject().put("limit", 25));
        counts.add(done.getInteger("replayed"));
        assertThat(done.getInteger("failed_again")).isZero();
        for (Object id : done.getJsonArray("ids")) {
          assertThat(replayed.add((String) id)).as("replayed once: %s", id).isTrue();
        }
        DeadLetterReplay.ReadStats read = node.deadLetterReplay().lastRead();
        assertThat(read.largestChunkBytes()).isLessThanOrEqualTo(256);
        if (done.getInteger("replayed") == 0) {
          break;
        }
        assertThat(read.chunks()).isGreaterThanOrEqualTo(done.getInteger("replayed") / 6);
      }
      assertThat(counts).containsExactly(25, 25, 10, 0);
      assertThat(replayed).isEqualTo(listed);
      List<String> payloads = new ArrayList<>();
      env.rows().forEach(row -> payloads.add(row.payload()));
      assertThat(payloads).containsExactlyInAnyOrderElementsOf(lines);
      Set<String> replayOf = new HashSet<>();
      for (Record d : DeadLetterIngestTest.deadLetterRows(env)) {
        if (d.getField("replay_of") != null) {
          assertThat(d.getField("error_code")).isEqualTo(DeadLetterReplay.REPLAYED);
          assertThat(replayOf.add((String) d.getField("replay_of"))).isTrue();
        }
      }
      assertThat(replayOf).isEqualTo(listed);
      assertThat(list(node, "")).isEmpty();
    }
  }

  /**
   * The stream, code and time filters are the scan's: the rows that do not match are never read by
   * the node. A dead letter whose replay failed again is not listed, even where only it (not its
   * outcome row, whose error code and ingest time are the replay's) matches the filter.
   */
  @Test
  void filtersAreTheScansAndOutcomesAreFoundWhateverTheirCodeAndTime() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = DeadLetterIngestTest.node(env, Map.of())) {
      DeadLetterIngestTest.qtyMismatchesAreDeadLettered(env, node, "*");
      StringBuilder malformed = new StringBuilder();
      for (int i = 0; i < 20; i++) {
        malformed.append("{\"id\":").append(i).append(",\n");
      }
      String mismatches =
          "{\"id\":1,\"qty\":\"a\"}\n{\"id\":2,\"qty\":\"b\"}\n{\"id\":3,\"qty\":\"c\"}\n";
      DeadLetterIngestTest.post(
          node.port(), "orders", "application/x-ndjson", malformed + mismatches, null);
      DeadLetterIngestTest.post(
          node.port(), "audit", "application/x-ndjson", malformed.toString(), null);
      node.flusher().flushNow().get();
      Instant betweenBatches = Instant.now();
      Thread.sleep(5);
      DeadLetterIngestTest.post(node.port(), "late", "application/x-ndjson", "{\"id\":9,\n", null);
      node.flusher().flushNow().get();
      DeadLetterReplay replay = node.deadLetterReplay();

      assertThat(list(node, "")).hasSize(44);
      assertThat(replay.lastRead().indexRows()).isEqualTo(44);
      // a stream with no dead letters: nothing of the table reaches the node
      assertThat(list(node, "?stream=nobody")).isEmpty();
      assertThat(replay.lastRead().indexRows()).isZero();
      assertThat(list(node, "?stream=orders&code=column_mismatch")).hasSize(3);
      assertThat(replay.lastRead().indexRows()).isEqualTo(3);
      assertThat(list(node, "?code=malformed_json")).hasSize(41);
      assertThat(list(node, "?since=" + encode(betweenBatches))).hasSize(1);
      assertThat(replay.lastRead().indexRows()).isEqualTo(1);
      assertThat(list(node, "?until=" + encode(betweenBatches))).hasSize(43);
      assertThat(replay.lastRead().indexRows()).isEqualTo(43);

      // the mismatches fail again (the column still rejects): new dead letters, of a later time
      JsonObject done =
          DeadLetterReplayTest.replay(node, new JsonObject().put("code", "column_mismatch"));
      assertThat(done.getInteger("failed_again")).isEqualTo(3);
      // before the replay, by time: only the first ones match, and they are replayed (their
      // outcomes, of a later time, are found all the same)
      assertThat(list(node, "?stream=orders&until=" + encode(betweenBatches))).hasSize(20);
      JsonArray again = list(node, "?code=column_mismatch");
      assertThat(again).hasSize(3);
      for (Object o : again) {
        assertThat(((JsonObject) o).getInteger("replay_count")).isEqualTo(1);
      }
      // ids and after: of this partition only
      String first = again.getJsonObject(0).getString("id");
      assertThat(list(node, "?ids=" + first + ",7-1")).hasSize(1);
      assertThat(list(node, "?ids=7-1")).isEmpty();
      assertThat(list(node, "?code=column_mismatch&after=" + first + ",7-1")).hasSize(2);
      HttpResponse<String> bad = get(node, "?after=x");
      assertThat(bad.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(bad.body()).getString("error")).isEqualTo("bad_filter");
    }
  }

  private static String encode(Instant t) {
    return URLEncoder.encode(t.toString(), StandardCharsets.UTF_8);
  }

  private static JsonArray list(Node node, String query) throws Exception {
    return DeadLetterReplayTest.list(node, query);
  }

  private static JsonObject listAnswer(Node node, String query) throws Exception {
    HttpResponse<String> r = get(node, query);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body());
  }

  private static HttpResponse<String> get(Node node, String query) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/floe/v1/dead-letter" + query))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
