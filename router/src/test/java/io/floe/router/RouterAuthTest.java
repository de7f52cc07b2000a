package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
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
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router authenticates producers with its token file and refuses them before any node sees the
 * request; what it forwards carries its own token and the producer's name, never the client's
 * claim.
 */
class RouterAuthTest {
  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  /** Authorization and X-Floe-Principal of each request the node got. */
  private final Queue<String> seen = new ConcurrentLinkedQueue<>();

  private Router router;

  @BeforeEach
  void start() throws Exception {
    HttpServer node =
        vertx
            .createHttpServer()
            .requestHandler(
                req -> {
                  if (req.path().equals("/health/ready")) {
                    req.response().end(new JsonObject().put("partition_id", 0).encode());
                    return;
                  }
                  req.body()
                      .onSuccess(
                          b -> {
                            seen.add(
                                req.getHeader("Authorization")
                                    + " | "
                                    + req.getHeader("X-Floe-Principal"));
                            req.response()
                                .putHeader("Content-Type", "application/json")
                                .end("{\"partition_id\":0}");
                          });
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
    Path tokens =
        Files.write(
            dir.resolve("tokens"),
            List.of(
                TokenStore.line("clicks-producer", "ingest:clicks", "t-clicks"),
                TokenStore.line("ops", "read", "t-ops"),
                TokenStore.line("bulk", "ingest", "t-bulk") + " bytes-per-second=1KiB"));
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
                        "t-router",
                        "router.metrics-port",
                        "0",
                        // the peer counts every request it gets: no console sampling here
                        "router.console-sample-seconds",
                        "0"))));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (get("/health/ready", null).statusCode() != 200) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @AfterEach
  void stop() throws Exception {
    router.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> post(String stream, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:" + router.port() + "/v1/streams/" + stream + "/events"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"v\":1}"));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(String path, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void refusesUnknownCallersAndStreamsOutsideTheirScopeBeforeAnyNodeSeesThem() throws Exception {
    HttpResponse<String> none = post("clicks");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(none.headers().firstValue("WWW-Authenticate"))
        .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    assertThat(new JsonObject(none.body()).getString("error")).isEqualTo("unauthorized");
    assertThat(post("clicks", "Authorization", "Bearer t-wrong").statusCode()).isEqualTo(401);
    assertThat(post("clicks", "Authorization", "Basic Y2xpY2tzOnQ=").statusCode()).isEqualTo(401);
    HttpResponse<String> other = post("orders", "Authorization", "Bearer t-clicks");
    assertThat(other.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(other.body()).getString("detail"))
        .contains("clicks-producer")
        .contains("orders")
        .doesNotContain("t-clicks");
    assertThat(post("clicks", "Authorization", "Bearer t-ops").statusCode()).isEqualTo(403);
    assertThat(seen).isEmpty();
  }

  @Test
  void forwardsWithItsOwnTokenAndTheProducersNameNeverTheClientsClaim() throws Exception {
    assertThat(
            post("clicks", "Authorization", "Bearer t-clicks", "X-Floe-Principal", "ops")
                .statusCode())
        .isEqualTo(200);
    assertThat(seen).containsExactly("Bearer t-router | clicks-producer");
  }

  @Test
  void aProducerOverItsBytesPerSecondGets429UntilItsBucketRefills() throws Exception {
    String big = "{\"v\":\"" + "x".repeat(2000) + "\"}";
    assertThat(post("clicks", "Authorization", "Bearer t-bulk").statusCode()).isEqualTo(200);
    HttpResponse<String> first =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + router.port() + "/v1/streams/bulk/events"))
                .header("Authorization", "Bearer t-bulk")
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(big))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(first.statusCode()).as("one request may overdraw the bucket").isEqualTo(200);
    HttpResponse<String> refused = post("clicks", "Authorization", "Bearer t-bulk");
    assertThat(refused.statusCode()).isEqualTo(429);
    long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1L, 3L);
    assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("too_many_requests");
    assertThat(seen).hasSize(2);
    assertThat(post("clicks", "Authorization", "Bearer t-clicks").statusCode())
        .as("others go on")
        .isEqualTo(200);
    Thread.sleep(retryAfter * 1000 + 100);
    assertThat(post("clicks", "Authorization", "Bearer t-bulk").statusCode()).isEqualTo(200);
    assertThat(get("/metrics", "t-ops").body())
        .contains("floe_router_throttled_total{kind=\"bytes\",token=\"bulk\"} 1.0");
  }

  @Test
  void statusAndMetricsNeedTheReadScope() throws Exception {
    assertThat(get("/v1/status", null).statusCode()).isEqualTo(401);
    assertThat(get("/v1/status", "t-clicks").statusCode()).isEqualTo(403);
    assertThat(get("/v1/status", "t-ops").statusCode()).isEqualTo(200);
    assertThat(get("/metrics", null).statusCode()).isEqualTo(401);
    assertThat(get("/metrics", "t-ops").statusCode()).isEqualTo(200);
    assertThat(get("/health/live", null).statusCode()).isEqualTo(200);
  }

  @Test
  void aPrivateListenerServesMetricsWithoutATokenAndNothingElse() throws Exception {
    HttpResponse<String> open =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + router.metricsPort() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(open.statusCode()).isEqualTo(200);
    assertThat(open.body()).contains("floe_router_healthy_nodes");
    assertThat(get("/metrics", null).statusCode())
        .as("the public listener still needs a read token")
        .isEqualTo(401);
    for (String path : List.of("/v1/status", "/v1/streams/clicks/events", "/health/ready")) {
      HttpResponse<String> other =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.metricsPort() + path))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(other.statusCode()).as(path).isEqualTo(404);
      assertThat(new JsonObject(other.body()).getString("error")).isEqualTo("not_found");
    }
  }
}
