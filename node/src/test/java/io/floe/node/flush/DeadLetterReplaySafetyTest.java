package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.local.FloeCli;
import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * What a replay may do and what a list shows: a dead letter is replayed as the one record it was
 * (an array element that is itself an array of objects fails again, it never becomes their events);
 * a replay cut at its limit says so; the raw bytes are shown to an admin token only.
 */
class DeadLetterReplaySafetyTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir Path tmp;

  /**
   * {@code [{"id":1},[{"id":2},{"id":3}],{"id":4}]}: the middle element is one dead letter ({@code
   * not_an_object}); its replay decoded its bytes as a whole JSON document, and the inner array's
   * two objects became events. Likewise in MessagePack.
   */
  @Test
  void aNestedArrayElementFailsAgainOnReplayAndNeverBecomesEvents() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = DeadLetterIngestTest.node(env, Map.of())) {
      DeadLetterIngestTest.setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      HttpResponse<String> json =
          DeadLetterIngestTest.post(
              node.port(),
              "orders",
              "application/json",
              "[{\"id\":1},[{\"id\":2},{\"id\":3}],{\"id\":4}]",
              null);
      assertThat(new JsonObject(json.body()).getInteger("dead_lettered")).as(json.body()).isOne();
      HttpResponse<String> msgpack = postBytes(node, null, "application/msgpack", nestedMsgpack());
      assertThat(new JsonObject(msgpack.body()).getInteger("dead_lettered"))
          .as(msgpack.body())
          .isOne();
      node.flusher().flushNow().get();
      assertThat(payloads(env)).hasSize(4);
      JsonArray pending = DeadLetterReplayTest.list(node, "");
      assertThat(pending).hasSize(2);
      assertThat(pending.stream().map(d -> ((JsonObject) d).getString("code")))
          .containsOnly("not_an_object");

      JsonObject done = DeadLetterReplayTest.replay(node, new JsonObject());
      assertThat(done.getInteger("replayed")).as(done.encode()).isZero();
      assertThat(done.getInteger("failed_again")).isEqualTo(2);
      assertThat(payloads(env)).as("no event from inside the arrays").hasSize(4);
      JsonArray left = DeadLetterReplayTest.list(node, "");
      assertThat(left).hasSize(2);
      for (Object o : left) {
        JsonObject d = (JsonObject) o;
        assertThat(d.getString("code")).isEqualTo("not_an_object");
        assertThat(d.getInteger("replay_count")).isOne();
      }
    }
  }

  /** A replay of more than its limit answers {@code truncated}: the same replay goes on. */
  @Test
  void aReplayCutAtItsLimitSaysMoreWait() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = DeadLetterIngestTest.node(env, Map.of())) {
      DeadLetterIngestTest.qtyMismatchesAreDeadLettered(env, node, "orders");
      StringBuilder body = new StringBuilder();
      for (int i = 1; i <= 4; i++) {
        body.append("{\"id\":").append(i).append(",\"qty\":\"many\"}\n");
      }
      HttpResponse<String> r =
          DeadLetterIngestTest.post(
              node.port(), "orders", "application/x-ndjson", body.toString(), null);
      assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).isEqualTo(4);
      node.flusher().flushNow().get();
      assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "null", null).statusCode())
          .isEqualTo(200);
      node.refreshColumns();

      JsonObject first = DeadLetterReplayTest.replay(node, new JsonObject().put("limit", 2));
      assertThat(first.getInteger("replayed")).isEqualTo(2);
      assertThat(first.getBoolean("truncated")).as(first.encode()).isTrue();

      // scripts/floe dead-letter replay says so on stderr, and succeeds
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      String nodes = "http://127.0.0.1:" + node.port();
      assertThat(
              cli(out, err)
                  .run(new String[] {"dead-letter", "replay", "--limit", "1", "--nodes", nodes}))
          .isZero();
      assertThat(out.toString(StandardCharsets.UTF_8)).contains("1 became events");
      assertThat(err.toString(StandardCharsets.UTF_8))
          .contains("more dead letters match and wait")
          .contains("run the same replay again");

      JsonObject second = DeadLetterReplayTest.replay(node, new JsonObject().put("limit", 2));
      assertThat(second.getInteger("replayed")).isOne();
      assertThat(second.getBoolean("truncated")).as(second.encode()).isFalse();
      assertThat(payloads(env)).hasSize(4);
    }
  }

  /**
   * The list's raw bytes (any stream's payloads) are an admin token's only: a read token (a
   * dashboard's) gets the rest.
   */
  @Test
  void theRawBytesAreListedForAnAdminTokenOnly() throws Exception {
    Path tokens =
        Files.write(
            tmp.resolve("tokens"),
            List.of(
                TokenStore.line("producer", "ingest", "t-producer"),
                TokenStore.line("dashboards", "read", "t-read"),
                TokenStore.line("oncall", "read,admin", "t-oncall")));
    try (TableEnv env = TableEnv.start(tmp)) {
      Map<String, String> settings = env.nodeSettings(0);
      settings.remove("auth.disabled");
      settings.put("auth.tokens-file", tokens.toString());
      try (Node node = Node.start(NodeConfig.load(Settings.of(settings)))) {
        DeadLetterIngestTest.setPolicy(env, "orders", "dead_letter");
        node.refreshColumns();
        HttpResponse<String> r =
            postBytes(
                node,
                "t-producer",
                "application/x-ndjson",
                "{\"id\":1}\n{\"secret\":\"s3cr3t\"\n".getBytes(StandardCharsets.UTF_8));
        assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).as(r.body()).isOne();
        node.flusher().flushNow().get();

        JsonObject read = listWith(node, "t-read").getJsonObject(0);
        assertThat(read.fieldNames())
            .contains(
                "id",
                "stream",
                "code",
                "detail",
                "position",
                "ingest_time",
                "replay_count",
                "raw_length",
                "raw_truncated")
            .doesNotContain("raw_base64", "principal", "idempotency_key");
        assertThat(read.encode()).doesNotContain("s3cr3t");
        JsonObject admin = listWith(node, "t-oncall").getJsonObject(0);
        assertThat(admin.getString("raw_base64")).isNotBlank();

        // scripts/floe dead-letter show: the bytes with an admin token, a line saying why not
        // with a read token
        String nodes = "http://127.0.0.1:" + node.port();
        String id = read.getString("id");
        for (String token : new String[] {"t-read", "t-oncall"}) {
          ByteArrayOutputStream out = new ByteArrayOutputStream();
          ByteArrayOutputStream err = new ByteArrayOutputStream();
          assertThat(
                  cli(out, err)
                      .run(
                          new String[] {
                            "--token", token, "dead-letter", "show", id, "--nodes", nodes
                          }))
              .isZero();
          if (token.equals("t-read")) {
            assertThat(out.toString(StandardCharsets.UTF_8)).contains(id).doesNotContain("s3cr3t");
            assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("need a token with the admin");
          } else {
            assertThat(out.toString(StandardCharsets.UTF_8)).contains("{\"secret\":\"s3cr3t\"");
          }
        }
      }
    }
  }

  private static FloeCli cli(ByteArrayOutputStream out, ByteArrayOutputStream err) {
    return new FloeCli(
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  private static JsonArray listWith(Node node, String token) throws Exception {
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + node.port() + "/floe/v1/dead-letter"))
                .header("Authorization", "Bearer " + token)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getJsonArray("dead_letters");
  }

  private static HttpResponse<String> postBytes(
      Node node, String token, String contentType, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/v1/streams/orders/events"))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** [{id:5}, [{id:6}, {id:7}], {id:8}] in MessagePack. */
  private static byte[] nestedMsgpack() throws Exception {
    try (MessageBufferPacker p = MessagePack.newDefaultBufferPacker()) {
      p.packArrayHeader(3);
      p.packMapHeader(1).packString("id").packInt(5);
      p.packArrayHeader(2);
      p.packMapHeader(1).packString("id").packInt(6);
      p.packMapHeader(1).packString("id").packInt(7);
      p.packMapHeader(1).packString("id").packInt(8);
      return p.toByteArray();
    }
  }

  private static List<String> payloads(TableEnv env) throws Exception {
    List<String> out = new ArrayList<>();
    env.rows().forEach(r -> out.add(r.payload()));
    return out;
  }
}
