package io.floe.it.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.service.CatalogService;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.floe.router.Router;
import io.floe.router.RouterConfig;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node, a router in front of it and the catalog service, all with one token file, refuse a caller
 * alike: the same status, the same headers ({@code WWW-Authenticate} on 401, {@code Retry-After} on
 * 429) and the same JSON body, byte for byte, for a missing token, a token without the scope and a
 * token over its quota (nodes and routers have quotas, the catalog service does not). Where the
 * rule itself differs (the catalog service also lets admin read its metrics) only the scopes named
 * differ. The Iceberg REST API keeps the error object its spec requires, with the same status,
 * headers and message.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RefusalContractTest {
  private static final String EVENTS = "{\"v\":1}\n".repeat(10);

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Node node;
  private Router router;
  private CatalogService catalog;

  /** What a client sees of a refusal. */
  record Answer(int status, String contentType, String challenge, String retryAfter, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  @BeforeAll
  void start(@TempDir Path dir) throws Exception {
    Path tokens =
        Files.write(
            dir.resolve("tokens"),
            List.of(
                TokenStore.line("clicks-producer", "ingest:clicks", "t-clicks"),
                TokenStore.line("bulk", "ingest", "t-bulk") + " events-per-second=1",
                TokenStore.line("oncall", "read,admin", "t-admin"),
                TokenStore.line("router-a", "router", "t-router")));
    node =
        Node.start(
            NodeConfig.load(
                Settings.of(
                    Map.of(
                        "http.host", "127.0.0.1",
                        "http.port", "0",
                        "http.event-loops", "1",
                        "buffer.dir", dir.resolve("rocks").toString(),
                        "flush.enabled", "false",
                        "auth.tokens-file", tokens.toString()))));
    router =
        Router.start(
            RouterConfig.load(
                Settings.of(
                    Map.of(
                        "router.host", "127.0.0.1",
                        "router.port", "0",
                        "router.nodes", "127.0.0.1:" + node.port(),
                        "router.health-interval-seconds", "0.1",
                        "router.event-loops", "1",
                        "router.node-token", "t-router",
                        "auth.tokens-file", tokens.toString()))));
    catalog =
        LocalCatalog.start(
            dir.resolve("catalog.db"),
            Map.of(
                "warehouse",
                dir.resolve("wh").toUri().toString(),
                "io-impl",
                "org.apache.iceberg.hadoop.HadoopFileIO"),
            Map.of("FLOE_AUTH_TOKENS_FILE", tokens.toString()));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (send(router.port(), "GET", "/health/ready", null).status() != 200) {
      assertThat(System.nanoTime()).as("the router sees the node").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @AfterAll
  void stop() throws Exception {
    for (AutoCloseable c : new AutoCloseable[] {catalog, router, node}) {
      if (c != null) {
        c.close();
      }
    }
  }

  private Answer send(int port, String method, String path, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(10));
    if (method.equals("POST")) {
      b.header("Content-Type", "application/x-ndjson")
          .POST(HttpRequest.BodyPublishers.ofString(EVENTS));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    return new Answer(
        r.statusCode(),
        r.headers().firstValue("Content-Type").orElse(null),
        r.headers().firstValue("WWW-Authenticate").orElse(null),
        r.headers().firstValue("Retry-After").orElse(null),
        r.body());
  }

  private Answer ingest(int port, String stream, String token) throws Exception {
    return send(port, "POST", "/v1/streams/" + stream + "/events", token);
  }

  @Test
  void aMissingOrUnknownTokenIsRefusedAlikeEverywhere() throws Exception {
    Answer expected =
        new Answer(
            401,
            "application/json",
            "Bearer realm=\"floe\"",
            null,
            new JsonObject()
                .put("error", "unauthorized")
                .put("detail", "Authorization: Bearer <token> is required")
                .encode());
    assertThat(ingest(node.port(), "clicks", null)).isEqualTo(expected);
    assertThat(ingest(router.port(), "clicks", null)).isEqualTo(expected);
    for (int port : new int[] {node.port(), router.port(), catalog.port()}) {
      assertThat(send(port, "GET", "/metrics", null)).as("port %d", port).isEqualTo(expected);
    }
    assertThat(send(catalog.port(), "GET", "/floe/v1/columns", null)).isEqualTo(expected);

    Answer unknown = ingest(node.port(), "clicks", "t-nope");
    assertThat(unknown.json().getString("detail")).isEqualTo("the bearer token is not valid");
    assertThat(ingest(router.port(), "clicks", "t-nope")).isEqualTo(unknown);
    assertThat(send(catalog.port(), "GET", "/metrics", "t-nope")).isEqualTo(unknown);
    assertThat(send(catalog.port(), "GET", "/floe/v1/columns", "t-nope")).isEqualTo(unknown);

    // the Iceberg REST API: the same status, headers and message, in the spec's error object
    Answer rest = send(catalog.port(), "GET", "/v1/config", null);
    assertThat(rest.status()).isEqualTo(401);
    assertThat(rest.challenge()).isEqualTo(expected.challenge());
    assertThat(rest.contentType()).isEqualTo(expected.contentType());
    JsonObject error = rest.json().getJsonObject("error");
    assertThat(error.getString("type")).isEqualTo("NotAuthorizedException");
    assertThat(error.getString("message")).isEqualTo(expected.json().getString("detail"));
  }

  @Test
  void aTokenWithoutTheScopeIsRefusedAlikeEverywhere() throws Exception {
    Answer stream = ingest(node.port(), "orders", "t-clicks");
    assertThat(stream)
        .isEqualTo(forbidden("the token 'clicks-producer' may not send events to stream 'orders'"));
    assertThat(ingest(router.port(), "orders", "t-clicks")).isEqualTo(stream);

    Answer metrics = send(node.port(), "GET", "/metrics", "t-clicks");
    assertThat(metrics).isEqualTo(forbidden("the token 'clicks-producer' lacks the scope read"));
    assertThat(send(router.port(), "GET", "/metrics", "t-clicks")).isEqualTo(metrics);
    // the catalog service lets admin read its metrics too, and says so in the same words
    assertThat(send(catalog.port(), "GET", "/metrics", "t-clicks"))
        .isEqualTo(forbidden("the token 'clicks-producer' lacks the scope read or admin"));
    assertThat(send(catalog.port(), "POST", "/floe/v1/columns", "t-clicks"))
        .isEqualTo(
            forbidden("the token 'clicks-producer' may not POST /floe/v1/columns (needs admin)"));

    Answer rest = send(catalog.port(), "GET", "/v1/config", "t-clicks");
    assertThat(rest.status()).isEqualTo(403);
    assertThat(rest.challenge()).isNull();
    assertThat(rest.json().getJsonObject("error").getString("message"))
        .isEqualTo("the token 'clicks-producer' may not GET /v1/config (needs catalog:read)");
  }

  private static Answer forbidden(String detail) {
    return new Answer(
        403,
        "application/json",
        null,
        null,
        new JsonObject().put("error", "forbidden").put("detail", detail).encode());
  }

  @Test
  void aTokenOverItsQuotaIsRefusedAlikeByNodesAndRouters() throws Exception {
    // ten events on a quota of one a second: the next request waits nine seconds, on either
    assertThat(ingest(node.port(), "clicks", "t-bulk").status()).isEqualTo(200);
    assertThat(ingest(router.port(), "clicks", "t-bulk").status()).isEqualTo(200);
    Answer fromNode = ingest(node.port(), "clicks", "t-bulk");
    Answer fromRouter = ingest(router.port(), "clicks", "t-bulk");
    assertThat(fromNode)
        .isEqualTo(
            new Answer(
                429,
                "application/json",
                null,
                "9",
                new JsonObject()
                    .put("error", "too_many_requests")
                    .put(
                        "detail",
                        "the token 'bulk' has used its quota (events-per-second /"
                            + " bytes-per-second in the token file); retry after 9 s")
                    .encode()));
    assertThat(fromRouter).isEqualTo(fromNode);
  }
}
