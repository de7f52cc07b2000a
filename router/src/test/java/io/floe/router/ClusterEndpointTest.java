package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import io.vertx.core.Handler;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /v1/cluster} and the console's files against HTTP peers speaking a node's and the catalog
 * service's operations API (status, Prometheus text, column list) and refusing any caller but the
 * router's own token: the router samples them with its token, answers a read token only, turns
 * counters into rates, counts per-stream traffic it forwarded, and never hands out a token. The
 * same against real nodes in a browser: it-tests' {@code ConsoleBrowserTest}.
 */
class ClusterEndpointTest {
  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final AtomicLong accepted = new AtomicLong();
  private final AtomicLong buffered = new AtomicLong(250);
  private int nodePort;
  private Router router;

  private static final String ROUTER_TOKEN = "t-router-secret";
  private static final String CATALOG_TOKEN = "t-catalog-secret";
  private static final String OPS_TOKEN = "t-ops-secret";
  private static final String PRODUCER_TOKEN = "t-producer-secret";

  private HttpServer listen(Handler<HttpServerRequest> handler) throws Exception {
    return vertx
        .createHttpServer()
        .requestHandler(handler)
        .listen(0, "127.0.0.1")
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
  }

  private static boolean refused(HttpServerRequest req, String token) {
    if (!("Bearer " + token).equals(req.getHeader("Authorization"))) {
      req.response().setStatusCode(401).end("{\"error\":\"unauthorized\"}");
      return true;
    }
    return false;
  }

  private void node(HttpServerRequest req) {
    switch (req.path()) {
      case "/health/ready" ->
          req.response()
              .end(new JsonObject().put("status", "ready").put("partition_id", 7).encode());
      case "/v1/status" -> {
        if (!refused(req, ROUTER_TOKEN)) {
          req.response()
              .end(
                  new JsonObject()
                      .put("partition_id", 7)
                      .put("ready", true)
                      .put("buffered_bytes", buffered.get())
                      .put("buffer_max_bytes", 1000)
                      .put("high_water_mark", accepted.get())
                      .put("committed_sequence", 0)
                      .put("epoch", 3)
                      .put("idempotency_keys", 12)
                      .put("salvage_needed", false)
                      .put("table_joined", true)
                      .put(
                          "flush",
                          new JsonObject()
                              .put("lag_seconds", 1.5)
                              .put("last_commit", "2026-12-06T10:00:00Z")
                              .put("consecutive_failures", 0)
                              .put("fenced", false))
                      .encode());
        }
      }
      case "/metrics" -> {
        if (!refused(req, ROUTER_TOKEN)) {
          long n = accepted.get();
          req.response()
              .end(
                  "# TYPE floe_node_events_accepted counter\n"
                      + "floe_node_events_accepted_total "
                      + n
                      + ".0\n"
                      + "floe_node_accepted_bytes_total "
                      + (n * 100)
                      + ".0\n"
                      + "floe_commit_attempts_total 4.0\n"
                      + "floe_commit_retries_total 1.0\n"
                      + "floe_node_request_duration_seconds_bucket{le=\"0.005\"} "
                      + n
                      + "\n"
                      + "floe_node_request_duration_seconds_bucket{le=\"+Inf\"} "
                      + n
                      + "\n"
                      + "floe_columns_active 1.0\n"
                      + "floe_dead_letters_total{code=\"malformed_json\",stream=\"clicks\"} 2.0\n"
                      + "floe_dead_letters_total{code=\"bad_event_time\",stream=\"clicks\"} 1.0\n");
        }
      }
      default ->
          req.body()
              .onSuccess(
                  b -> {
                    if (b.toString().contains("bad")) {
                      req.response().setStatusCode(400).end("{\"error\":\"malformed\"}");
                      return;
                    }
                    long first = accepted.getAndAdd(2) + 1;
                    req.response()
                        .putHeader("Content-Type", "application/json")
                        .end(
                            new JsonObject()
                                .put("accepted", 2)
                                .put("partition_id", 7)
                                .put("first_sequence", first)
                                .put("last_sequence", first + 1)
                                .encode());
                  });
    }
  }

  private void catalog(HttpServerRequest req) {
    if (refused(req, CATALOG_TOKEN)) {
      return;
    }
    switch (req.path()) {
      case "/metrics" ->
          req.response()
              .end(
                  "floe_maintenance_table_snapshots 42.0\n"
                      + "floe_maintenance_table_data_files 17.0\n"
                      + "floe_maintenance_table_small_files 3.0\n"
                      + "floe_maintenance_table_metadata_bytes 65536.0\n"
                      + "floe_maintenance_lease_held 1.0\n"
                      + "floe_maintenance_lease_holder{holder=\"catalog-a\"} 1.0\n"
                      + "floe_maintenance_last_success_timestamp_seconds{task=\"expire\"} 1.7E9\n"
                      + "floe_maintenance_runs_total{outcome=\"failed\",task=\"compact\"} 2.0\n");
      case "/floe/v1/columns" ->
          req.response()
              .end(
                  new JsonObject()
                      .put(
                          "columns",
                          new JsonArray()
                              .add(
                                  new JsonObject()
                                      .put("name", "amount")
                                      .put("type", "long")
                                      .put("path", "amount")
                                      .put("on_mismatch", "null")))
                      .encode());
      default -> req.response().setStatusCode(404).end();
    }
  }

  @BeforeEach
  void start() throws Exception {
    HttpServer node = listen(this::node);
    nodePort = node.actualPort();
    HttpServer catalog = listen(this::catalog);
    Path tokens =
        Files.write(
            dir.resolve("tokens"),
            List.of(
                TokenStore.line("producer", "ingest", PRODUCER_TOKEN),
                TokenStore.line("ops", "read", OPS_TOKEN)));
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
                        "127.0.0.1:" + node.actualPort(),
                        "router.health-interval-seconds",
                        "0.1",
                        "router.event-loops",
                        "1",
                        "auth.tokens-file",
                        tokens.toString(),
                        "router.node-token",
                        ROUTER_TOKEN,
                        "router.catalog-uri",
                        "http://127.0.0.1:" + catalog.actualPort(),
                        "router.catalog-token",
                        CATALOG_TOKEN,
                        "router.console-sample-seconds",
                        "0.2"))));
  }

  @AfterEach
  void stop() throws Exception {
    router.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> send(String method, String path, String token, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject clusterWhen(Predicate<JsonObject> done) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (true) {
      HttpResponse<String> r = send("GET", "/v1/cluster", OPS_TOKEN, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertNoToken(r.body());
      JsonObject c = new JsonObject(r.body());
      if (done.test(c)) {
        return c;
      }
      assertThat(System.nanoTime()).as("waiting for: %s", r.body()).isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  private static void assertNoToken(String text) {
    assertThat(text)
        .doesNotContain(ROUTER_TOKEN)
        .doesNotContain(CATALOG_TOKEN)
        .doesNotContain(OPS_TOKEN)
        .doesNotContain(PRODUCER_TOKEN);
  }

  @Test
  void answersAReadTokenOnly() throws Exception {
    HttpResponse<String> none = send("GET", "/v1/cluster", null, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(send("GET", "/v1/cluster", "t-wrong", null).statusCode()).isEqualTo(401);
    HttpResponse<String> producer = send("GET", "/v1/cluster", PRODUCER_TOKEN, null);
    assertThat(producer.statusCode()).isEqualTo(403);
    assertNoToken(producer.body());
    HttpResponse<String> ops = send("GET", "/v1/cluster", OPS_TOKEN, null);
    assertThat(ops.statusCode()).isEqualTo(200);
    assertThat(ops.headers().firstValue("Cache-Control")).hasValue("no-store");
  }

  @Test
  void nodesStreamsTableAndChartsFromWhatTheNodesAndTheCatalogExpose() throws Exception {
    for (int i = 0; i < 5; i++) {
      assertThat(send("POST", "/v1/streams/clicks/events", PRODUCER_TOKEN, "[{},{}]").statusCode())
          .isEqualTo(200);
    }
    assertThat(send("POST", "/v1/streams/clicks/events", PRODUCER_TOKEN, "bad").statusCode())
        .isEqualTo(400);
    assertThat(send("POST", "/v1/streams/orders/events", "t-wrong", "{}").statusCode())
        .as("a stranger's request counts nowhere")
        .isEqualTo(401);

    JsonObject c =
        clusterWhen(
            x ->
                x.getJsonObject("series").getJsonArray("t").size() >= 3
                    && !x.getJsonArray("streams").isEmpty()
                    // a sample taken after the last request
                    && x.getJsonArray("streams").getJsonObject(0).getLong("requests_total") == 6
                    && x.getJsonArray("nodes").getJsonObject(0).getBoolean("routed", false));
    assertThat(c.getString("status")).isEqualTo("ok");
    assertThat(c.getJsonArray("attention")).isEmpty();
    JsonObject n = c.getJsonArray("nodes").getJsonObject(0);
    assertThat(n.getInteger("partition_id")).isEqualTo(7);
    assertThat(n.getBoolean("ready")).isTrue();
    assertThat(n.getLong("epoch")).isEqualTo(3);
    assertThat(n.getDouble("buffer_fill")).isEqualTo(0.25);
    assertThat(n.getLong("idempotency_keys")).isEqualTo(12);
    assertThat(n.getDouble("flush_lag_seconds")).isEqualTo(1.5);
    assertThat(n.getDouble("commit_attempts_total")).isEqualTo(4.0);
    assertThat(n.getDouble("commit_retries_total")).isEqualTo(1.0);

    JsonArray streams = c.getJsonArray("streams");
    assertThat(streams).hasSize(1);
    JsonObject clicks = streams.getJsonObject(0);
    assertThat(clicks.getString("stream")).isEqualTo("clicks");
    assertThat(clicks.getLong("events_total")).isEqualTo(10);
    assertThat(clicks.getLong("requests_total")).isEqualTo(6);
    assertThat(clicks.getLong("errors_total")).isEqualTo(1);
    assertThat(clicks.getLong("dead_letters_total"))
        .as("the nodes' dead letters of the stream, every code")
        .isEqualTo(3);

    JsonObject table = c.getJsonObject("table");
    assertThat(table.getBoolean("reachable")).isTrue();
    assertThat(table.getDouble("snapshots")).isEqualTo(42.0);
    assertThat(table.getDouble("data_files")).isEqualTo(17.0);
    assertThat(table.getDouble("metadata_bytes")).isEqualTo(65536.0);
    assertThat(table.getInteger("columns_active")).isEqualTo(1);
    JsonObject maintenance = table.getJsonObject("maintenance");
    assertThat(maintenance.getString("lease_holder")).isEqualTo("catalog-a");
    assertThat(maintenance.getBoolean("lease_held_by_this_catalog")).isTrue();
    assertThat(maintenance.getString("last_run")).isEqualTo("2023-11-14T22:13:20Z");
    assertThat(maintenance.getLong("failed_runs_total")).isEqualTo(2);
    assertThat(table.getJsonArray("columns").getJsonObject(0).getString("name"))
        .isEqualTo("amount");

    // events between two samples show as a rate, in the node's row and in the chart
    for (int i = 0; i < 20; i++) {
      send("POST", "/v1/streams/clicks/events", PRODUCER_TOKEN, "[{},{}]");
    }
    JsonObject busy =
        clusterWhen(
            x -> x.getJsonArray("nodes").getJsonObject(0).getDouble("events_per_second", 0.0) > 0);
    JsonArray rates = busy.getJsonObject("series").getJsonArray("events_per_second");
    assertThat(rates.stream().anyMatch(v -> v != null && ((Number) v).doubleValue() > 0)).isTrue();
    assertThat(busy.getJsonObject("series").getJsonArray("ack_p99_ms").stream())
        .anyMatch(v -> v != null && ((Number) v).doubleValue() <= 5.0);
  }

  @Test
  void aNodeThatStopsAnsweringNeedsAttentionFirst() throws Exception {
    clusterWhen(x -> x.getString("status").equals("ok"));
    router.close();
    buffered.set(900);
    // the live node (listed first) has a nearly full buffer, a warning; the second is gone, which
    // is
    // critical and comes first
    router =
        Router.start(
            RouterConfig.load(
                Settings.of(
                    Map.of(
                        "router.host", "127.0.0.1",
                        "router.port", "0",
                        "router.nodes", "127.0.0.1:" + nodePort + ",127.0.0.1:1",
                        "router.event-loops", "1",
                        "router.node-token", ROUTER_TOKEN,
                        "auth.tokens-file", dir.resolve("tokens").toString(),
                        "router.console-sample-seconds", "0.2"))));
    JsonObject c = clusterWhen(x -> x.containsKey("sampled_at"));
    assertThat(c.getString("status")).isEqualTo("critical");
    JsonArray attention = c.getJsonArray("attention");
    assertThat(attention).hasSize(2);
    assertThat(attention.getJsonObject(0).getString("level")).isEqualTo("critical");
    assertThat(attention.getJsonObject(0).getString("subject")).isEqualTo("127.0.0.1:1");
    assertThat(attention.getJsonObject(1).getString("level")).isEqualTo("warning");
    assertThat(attention.getJsonObject(1).getString("message")).contains("buffer 90% full");
    // find the gone node by name, whatever the order of the membership
    JsonObject n =
        c.getJsonArray("nodes").stream()
            .map(JsonObject.class::cast)
            .filter(x -> "127.0.0.1:1".equals(x.getString("node")))
            .findFirst()
            .orElseThrow();
    assertThat(n.getBoolean("ready")).isFalse();
    assertThat(n.getString("reason")).isEqualTo("unreachable");
    assertThat(c.getJsonObject("table").getString("error")).contains("router.catalog-uri");
  }

  @Test
  void theConsoleFilesNeedNoTokenHoldNoneAndForbidOtherOrigins() throws Exception {
    HttpResponse<String> bare = send("GET", "/console", null, null);
    assertThat(bare.statusCode()).isEqualTo(308);
    assertThat(bare.headers().firstValue("Location")).hasValue("/console/");
    for (String path : List.of("/console/", "/console/console.js", "/console/console.css")) {
      HttpResponse<String> r = send("GET", path, null, null);
      assertThat(r.statusCode()).as(path).isEqualTo(200);
      assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow())
          .contains("default-src 'none'")
          .contains("script-src 'self'")
          .contains("frame-ancestors 'none'");
      assertThat(r.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
      assertNoToken(r.body());
      assertThat(r.body())
          .as("nothing loaded from elsewhere")
          .doesNotContainPattern("(src|href)=\"(https?:)?//")
          .doesNotContainPattern("import\\s*\\(|fetch\\(\"https?:");
    }
    assertThat(send("GET", "/console/", null, null).body())
        .contains("<label for=\"token\">")
        .contains("lang=\"en\"");
    assertThat(send("GET", "/console/console.js", null, null).body())
        .contains("history.replaceState")
        .contains("sessionStorage");
    assertThat(send("GET", "/console/nope.js", null, null).statusCode()).isEqualTo(404);
    assertThat(send("POST", "/console/", null, "{}").statusCode()).isEqualTo(405);
  }
}
