package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dead-letter API through the router: asked of every node with the caller's own token (the
 * nodes decide again), after the router checked the scope (list: read; replay: admin); answers
 * combined as {@code scripts/floe dead-letter} does; a node down or failing makes the answer an
 * error naming it, with the others' outcome, never a success. The peers answer as a node's {@code
 * DeadLetterHandler} does (the real nodes: {@code DeadLetterClusterTest}).
 */
class RouterDeadLetterTest {
  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** What each peer got: partition, method, uri, Authorization, X-Floe-Principal, body. */
  private final Queue<String> seen = new ConcurrentLinkedQueue<>();

  private final List<HttpServer> peers = new ArrayList<>();

  /** How each peer answers a dead-letter request: 200, 400 (bad filter) or 500. */
  private final int[] answer = {200, 200, 200};

  /** Whether each peer's replay says more wait beyond its limit. */
  private final boolean[] replayTruncated = {false, false, false};

  private Router router;

  @BeforeEach
  void start() throws Exception {
    for (int p = 0; p < 3; p++) {
      int partition = p;
      peers.add(
          vertx
              .createHttpServer()
              .requestHandler(req -> peer(partition, req))
              .listen(0, "127.0.0.1")
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS));
    }
    Path tokens =
        Files.write(
            dir.resolve("tokens"),
            List.of(
                TokenStore.line("producer", "ingest", "t-producer"),
                TokenStore.line("dashboards", "read", "t-read"),
                TokenStore.line("oncall", "read,admin", "t-oncall")));
    router =
        Router.start(
            RouterConfig.load(
                Settings.of(
                    Map.of(
                        "router.host",
                        "127.0.0.1",
                        "router.port",
                        "0",
                        "router.nodes",
                        peers.stream()
                            .map(s -> "127.0.0.1:" + s.actualPort())
                            .collect(Collectors.joining(",")),
                        "router.health-interval-seconds",
                        "0.1",
                        "router.event-loops",
                        "1",
                        "auth.tokens-file",
                        tokens.toString(),
                        "router.node-token",
                        "t-router",
                        "router.console-sample-seconds",
                        "0"))));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!allPartitionsKnown()) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(50);
    }
    seen.clear();
  }

  @AfterEach
  void stop() throws Exception {
    router.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  /**
   * A node's dead-letter API: partition p lists two dead letters (ingest times interleaved with the
   * other partitions') and replays 10·p+1 of them.
   */
  private void peer(int partition, HttpServerRequest req) {
    if (req.path().equals("/health/ready")) {
      req.response().end(new JsonObject().put("partition_id", partition).encode());
      return;
    }
    req.body()
        .onSuccess(
            body -> {
              seen.add(
                  partition
                      + " "
                      + req.method()
                      + " "
                      + req.uri()
                      + " | "
                      + req.getHeader("Authorization")
                      + " | "
                      + req.getHeader("X-Floe-Principal")
                      + " | "
                      + body);
              int status = answer[partition];
              JsonObject out;
              if (status == 400) {
                out = new JsonObject().put("error", "bad_filter").put("detail", "limit must be");
              } else if (status != 200) {
                out = new JsonObject().put("error", "internal").put("detail", "broken");
              } else if (req.path().endsWith("/replay")) {
                out =
                    new JsonObject()
                        .put("replayed", 10 * partition + 1)
                        .put("failed_again", 1)
                        .put("already_replayed", partition)
                        .put("ids", new JsonArray().add(partition + "-7"))
                        .put("truncated", replayTruncated[partition]);
              } else {
                // as a node: after its partition's id in `after`, at most `limit`
                int from = 0;
                String after = req.getParam("after");
                if (after != null && after.contains(partition + "-")) {
                  int at = after.indexOf(partition + "-") + 2;
                  from = Integer.parseInt(after.substring(at, at + 1)) - 4;
                }
                int limit = Integer.parseInt(req.getParam("limit", "1000"));
                JsonArray listed = new JsonArray();
                boolean truncated = false;
                for (int i = from; i < 2; i++) {
                  if (listed.size() == limit) {
                    truncated = true;
                    break;
                  }
                  listed.add(
                      new JsonObject()
                          .put("id", partition + "-" + (5 + i))
                          .put("stream", "orders")
                          .put("ingest_time", "2026-12-06T10:00:0" + (3 * i + partition) + "Z")
                          .put("code", "malformed_json"));
                }
                out = new JsonObject().put("dead_letters", listed).put("truncated", truncated);
              }
              req.response()
                  .setStatusCode(status)
                  .putHeader("Content-Type", "application/json")
                  .end(out.encode());
            });
  }

  private boolean allPartitionsKnown() throws Exception {
    HttpResponse<String> status = get("/v1/status", "t-read");
    if (status.statusCode() != 200) {
      return false;
    }
    JsonArray nodes = new JsonObject(status.body()).getJsonArray("nodes");
    return nodes.stream()
        .allMatch(
            n ->
                ((JsonObject) n).getBoolean("healthy")
                    && ((JsonObject) n).getInteger("partition_id") != null);
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> replay(String token, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + router.port() + "/floe/v1/dead-letter/replay"))
            .header("Content-Type", "application/json")
            .header("X-Floe-Principal", "someone-else")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private String node(int partition) {
    return "127.0.0.1:" + peers.get(partition).actualPort();
  }

  @Test
  void aReplayAsksEveryNodeWithTheCallersTokenAndSumsTheirCounts() throws Exception {
    HttpResponse<String> r = replay("t-oncall", "{\"stream\":\"orders\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonObject answer = new JsonObject(r.body());
    assertThat(answer.getLong("replayed")).isEqualTo(1 + 11 + 21);
    assertThat(answer.getLong("failed_again")).isEqualTo(3);
    assertThat(answer.getLong("already_replayed")).isEqualTo(0 + 1 + 2);
    assertThat(answer.getJsonArray("ids")).containsExactlyInAnyOrder("0-7", "1-7", "2-7");
    assertThat(answer.getJsonArray("nodes")).hasSize(3);
    // the caller's own token, not the router's, and no principal header (nodes trust it from a
    // router token only)
    assertThat(seen)
        .containsExactlyInAnyOrder(
            "0 POST /floe/v1/dead-letter/replay | Bearer t-oncall | null | {\"stream\":\"orders\"}",
            "1 POST /floe/v1/dead-letter/replay | Bearer t-oncall | null | {\"stream\":\"orders\"}",
            "2 POST /floe/v1/dead-letter/replay | Bearer t-oncall | null | {\"stream\":\"orders\"}");
  }

  /** A replay cut at its limit on any node says so: more wait, the same replay goes on. */
  @Test
  void aReplayIsTruncatedWhenAnyNodesWas() throws Exception {
    HttpResponse<String> whole = replay("t-oncall", "{\"limit\":5}");
    assertThat(whole.statusCode()).as(whole.body()).isEqualTo(200);
    assertThat(new JsonObject(whole.body()).getBoolean("truncated")).as(whole.body()).isFalse();
    replayTruncated[1] = true;
    HttpResponse<String> cut = replay("t-oncall", "{\"limit\":5}");
    assertThat(cut.statusCode()).as(cut.body()).isEqualTo(200);
    assertThat(new JsonObject(cut.body()).getBoolean("truncated")).as(cut.body()).isTrue();
  }

  @Test
  void theListIsEveryPartitionsOldestFirstCutAtTheLimit() throws Exception {
    HttpResponse<String> r = get("/floe/v1/dead-letter?stream=orders&limit=4", "t-read");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonArray listed = new JsonObject(r.body()).getJsonArray("dead_letters");
    assertThat(listed.stream().map(d -> ((JsonObject) d).getString("id")))
        .containsExactly("0-5", "1-5", "2-5", "0-6");
    assertThat(listed.stream().map(d -> ((JsonObject) d).getInteger("partition_id")))
        .containsExactly(0, 1, 2, 0);
    assertThat(seen)
        .allMatch(s -> s.contains("GET /floe/v1/dead-letter?stream=orders&limit=4 | Bearer t-read"))
        .hasSize(3);
    // cut: each partition's last listed id says where the next list goes on
    assertThat(new JsonObject(r.body()).getBoolean("truncated")).isTrue();
    assertThat(new JsonObject(r.body()).getString("next_after")).isEqualTo("0-6,1-5,2-5");
    HttpResponse<String> next =
        get("/floe/v1/dead-letter?stream=orders&limit=4&after=0-6,1-5,2-5", "t-read");
    assertThat(ids(next)).containsExactly("1-6", "2-6");
    assertThat(new JsonObject(next.body()).getBoolean("truncated")).isFalse();
    assertThat(new JsonObject(next.body()).containsKey("next_after")).isFalse();
    HttpResponse<String> all = get("/floe/v1/dead-letter", "t-oncall");
    assertThat(new JsonObject(all.body()).getJsonArray("dead_letters")).hasSize(6);
    assertThat(new JsonObject(all.body()).getBoolean("truncated")).isFalse();
  }

  /**
   * Nodes that stop early (their limit, or their read budget) make the list truncated; a partition
   * with nothing listed on a page keeps the place the request's {@code after} gave it.
   */
  @Test
  void aListCutByTheNodesGoesOnWhereEachPartitionStopped() throws Exception {
    HttpResponse<String> first = get("/floe/v1/dead-letter?limit=1", "t-read");
    assertThat(ids(first)).containsExactly("0-5");
    assertThat(new JsonObject(first.body()).getString("next_after")).isEqualTo("0-5");
    HttpResponse<String> second = get("/floe/v1/dead-letter?limit=1&after=0-5", "t-read");
    assertThat(ids(second)).containsExactly("1-5");
    assertThat(new JsonObject(second.body()).getString("next_after")).isEqualTo("0-5,1-5");
    List<String> all = new ArrayList<>();
    String after = "0-5,1-5";
    all.addAll(ids(first));
    all.addAll(ids(second));
    for (int page = 0; page < 10 && after != null; page++) {
      HttpResponse<String> r = get("/floe/v1/dead-letter?limit=1&after=" + after, "t-read");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      all.addAll(ids(r));
      after = new JsonObject(r.body()).getString("next_after");
    }
    assertThat(after).isNull();
    assertThat(all).containsExactly("0-5", "1-5", "2-5", "0-6", "1-6", "2-6");
  }

  private static List<String> ids(HttpResponse<String> r) {
    return new JsonObject(r.body())
        .getJsonArray("dead_letters").stream().map(d -> ((JsonObject) d).getString("id")).toList();
  }

  @Test
  void scopesAreCheckedAtTheRouterBeforeAnyNodeIsAsked() throws Exception {
    assertThat(replay(null, "{}").statusCode()).isEqualTo(401);
    assertThat(replay("t-wrong", "{}").statusCode()).isEqualTo(401);
    HttpResponse<String> reader = replay("t-read", "{}");
    assertThat(reader.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(reader.body()).getString("detail")).contains("admin");
    assertThat(replay("t-producer", "{}").statusCode()).isEqualTo(403);
    assertThat(get("/floe/v1/dead-letter", null).statusCode()).isEqualTo(401);
    assertThat(get("/floe/v1/dead-letter", "t-producer").statusCode()).isEqualTo(403);
    assertThat(get("/floe/v1/dead-letter/replay", "t-oncall").statusCode()).isEqualTo(405);
    assertThat(seen).isEmpty();
  }

  @Test
  void aNodeDownMakesTheReplayA503NamingItWithTheOthersCounts() throws Exception {
    peers.get(1).close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    HttpResponse<String> r = replay("t-oncall", "{}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).isPresent();
    JsonObject answer = new JsonObject(r.body());
    assertThat(answer.getString("error")).isEqualTo("unavailable");
    assertThat(answer.getString("detail")).contains(node(1)).contains("partition 1");
    assertThat(answer.getJsonArray("failed_nodes")).containsExactly(node(1));
    assertThat(answer.getLong("replayed")).as("the others' counts").isEqualTo(1 + 21);
    assertThat(seen).hasSize(2);
    HttpResponse<String> list = get("/floe/v1/dead-letter", "t-read");
    assertThat(list.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(list.body()).getJsonArray("dead_letters")).hasSize(4);
    assertThat(get("/metrics", "t-read").body())
        .contains(
            "floe_router_forward_errors_total{kind=\"dead_letter\",node=\"" + node(1) + "\"} 2.0");
  }

  @Test
  void aNodeFailingMakesItA502AndABadFilterIsTheNodesOwn400() throws Exception {
    answer[2] = 500;
    HttpResponse<String> failed = replay("t-oncall", "{}");
    assertThat(failed.statusCode()).as(failed.body()).isEqualTo(502);
    JsonObject f = new JsonObject(failed.body());
    assertThat(f.getString("error")).isEqualTo("bad_gateway");
    assertThat(f.getJsonArray("failed_nodes")).containsExactly(node(2));
    assertThat(f.getLong("replayed")).isEqualTo(1 + 11);

    answer[0] = 400;
    answer[1] = 400;
    answer[2] = 400;
    HttpResponse<String> bad = replay("t-oncall", "{\"limit\":0}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(bad.body()).getString("error")).isEqualTo("bad_filter");

    seen.clear();
    HttpResponse<String> notJson = replay("t-oncall", "[1]");
    assertThat(notJson.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(notJson.body()).getString("error")).isEqualTo("bad_filter");
    assertThat(seen).as("refused at the router").isEmpty();
  }
}
