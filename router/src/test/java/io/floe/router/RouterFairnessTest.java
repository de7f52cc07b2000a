package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One producer cannot starve the others at a router: its requests in flight are capped, its bytes
 * quota is charged with what a request declares as it is let in, and a body that trickles is cut
 * off, so slow bodies cannot hold the router's connections to a node.
 */
class RouterFairnessTest {
  @TempDir Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(5))
          .build();
  private final List<Socket> sockets = new ArrayList<>();
  private final ScheduledExecutorService trickle = Executors.newSingleThreadScheduledExecutor();

  /** Requests whose whole body reached the node. */
  private final AtomicInteger received = new AtomicInteger();

  /** How long the node takes to answer, in ms. */
  private final AtomicInteger answerDelay = new AtomicInteger(1);

  /** What the node answers a request it stored. */
  private final AtomicReference<JsonObject> nodeAnswer =
      new AtomicReference<>(new JsonObject().put("accepted", 1).put("partition_id", 0));

  private HttpServer node;
  private Router router;

  @BeforeEach
  void startNode() throws Exception {
    node =
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
                          body -> {
                            received.incrementAndGet();
                            vertx.setTimer(
                                answerDelay.get(),
                                t ->
                                    req.response()
                                        .putHeader("Content-Type", "application/json")
                                        .end(nodeAnswer.get().encode()));
                          });
                })
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  private void startRouter(Map<String, String> overrides) throws Exception {
    Path tokens =
        Files.write(
            dir.resolve("tokens"),
            List.of(
                TokenStore.line("noisy", "ingest", "t-noisy"),
                TokenStore.line("quiet", "ingest", "t-quiet"),
                TokenStore.line("metered", "ingest", "t-metered") + " bytes-per-second=1KiB",
                TokenStore.line("counted", "ingest", "t-counted") + " events-per-second=10",
                TokenStore.line("ops", "read", "t-ops")));
    Map<String, String> s = new HashMap<>();
    s.put("router.host", "127.0.0.1");
    s.put("router.port", "0");
    s.put("router.nodes", "127.0.0.1:" + node.actualPort());
    s.put("router.health-interval-seconds", "0.1");
    s.put("auth.tokens-file", tokens.toString());
    // the peer counts every request it gets: no console sampling (ClusterEndpointTest has it)
    s.put("router.console-sample-seconds", "0");
    s.putAll(overrides);
    router = Router.start(RouterConfig.load(Settings.of(s)));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (get("/health/ready").statusCode() != 200) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @AfterEach
  void stop() throws Exception {
    trickle.shutdownNow();
    for (Socket s : sockets) {
      s.close();
    }
    if (router != null) {
      router.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest post(String token, String body) {
    return HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + router.port() + "/v1/streams/s/events"))
        .header("Authorization", "Bearer " + token)
        .header("Content-Type", "application/x-ndjson")
        .timeout(Duration.ofSeconds(20))
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  /**
   * A request of {@code token} that declares a 1000-byte body and sends one byte of it every 200
   * ms.
   */
  private Socket tricklingRequest(String token) throws Exception {
    Socket s = new Socket("127.0.0.1", router.port());
    sockets.add(s);
    OutputStream out = s.getOutputStream();
    out.write(
        ("POST /v1/streams/s/events HTTP/1.1\r\nHost: floe\r\nContent-Type: application/x-ndjson\r\n"
                + "Authorization: Bearer "
                + token
                + "\r\nContent-Length: 1000\r\n\r\n{")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    trickle.scheduleAtFixedRate(
        () -> {
          try {
            out.write(' ');
            out.flush();
          } catch (Exception closed) {
            throw new IllegalStateException(closed); // ends this trickle only
          }
        },
        200,
        200,
        TimeUnit.MILLISECONDS);
    return s;
  }

  /** The status line and everything after it, or "" when nothing came within {@code millis}. */
  private static String answer(Socket s, int millis) throws Exception {
    s.setSoTimeout(millis);
    InputStream in = s.getInputStream();
    StringBuilder text = new StringBuilder();
    byte[] buf = new byte[4096];
    try {
      int n;
      while ((n = in.read(buf)) > 0) {
        text.append(new String(buf, 0, n, StandardCharsets.US_ASCII));
      }
    } catch (SocketTimeoutException open) {
      // the connection stays open: what came so far
    }
    return text.toString();
  }

  @Test
  void aProducerTricklingBodiesDoesNotTakeTheNodesConnectionsFromOthers() throws Exception {
    startRouter(Map.of());
    for (int i = 0; i < 64; i++) {
      tricklingRequest("t-noisy");
    }
    Thread.sleep(500); // every one of them has reached the router and asked for a connection
    long start = System.nanoTime();
    HttpResponse<String> quiet = http.send(post("t-quiet", "{\"v\":1}\n"), ofString());
    assertThat(quiet.statusCode()).as(quiet.body()).isEqualTo(200);
    assertThat(System.nanoTime() - start)
        .as("another producer is answered at once")
        .isLessThan(TimeUnit.SECONDS.toNanos(1));

    int refused = 0;
    for (Socket s : sockets) {
      String a = answer(s, 50);
      if (a.startsWith("HTTP/1.1 429")) {
        refused++;
        assertThat(a).contains("\"error\":\"too_many_requests\"").contains("Retry-After: 1");
      }
    }
    assertThat(refused)
        .as("the noisy producer's requests beyond auth.max-concurrent-requests")
        .isEqualTo(64 - 16);
  }

  @Test
  void parallelRequestsCannotOverdrawABytesQuotaTogether() throws Exception {
    startRouter(Map.of());
    String kib = "{\"v\":\"" + "x".repeat(1024 - 9) + "\"}\n";
    assertThat(kib).hasSize(1024);
    // 20 connections opened and warm first (other tokens, each within its requests in flight), so
    // that the burst arrives at once
    List<CompletableFuture<HttpResponse<String>>> warm = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      warm.add(http.sendAsync(post(i % 2 == 0 ? "t-quiet" : "t-noisy", kib), ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> f : warm) {
      assertThat(f.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
    }
    received.set(0);
    answerDelay.set(300); // the node answers later: every request of the burst overlaps the others
    long start = System.nanoTime();
    List<CompletableFuture<HttpResponse<String>>> all = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      all.add(http.sendAsync(post("t-metered", kib), ofString()));
    }
    int accepted = 0;
    int throttled = 0;
    for (CompletableFuture<HttpResponse<String>> f : all) {
      HttpResponse<String> r = f.get(20, TimeUnit.SECONDS);
      if (r.statusCode() == 200) {
        accepted++;
      } else {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
        assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("too_many_requests");
        throttled++;
      }
    }
    // the bucket lets one in, maybe a second as it refills, then one more per second the burst took
    // to arrive (on a loaded machine)
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    assertThat(accepted)
        .as("a 1 KiB/s token lets about one 1 KiB request in per second")
        .isBetween(1, 2 + (int) seconds);
    assertThat(throttled).isEqualTo(20 - accepted);
    assertThat(received.get()).as("only the accepted ones reached the node").isEqualTo(accepted);
  }

  @Test
  void aBodyTricklingBelowTheMinimumRateIsAnswered408AndItsConnectionClosed() throws Exception {
    startRouter(
        Map.of(
            "ingest.min-body-bytes-per-second", "100",
            "ingest.min-body-rate-window-seconds", "1"));
    Socket slow = tricklingRequest("t-noisy"); // 5 bytes/s
    long start = System.nanoTime();
    String a = answer(slow, 5_000);
    assertThat(a).startsWith("HTTP/1.1 408").contains("\"error\":\"request_timeout\"");
    assertThat(System.nanoTime() - start)
        .as("cut off after the first window")
        .isLessThan(TimeUnit.SECONDS.toNanos(3));
    assertThat(slow.getInputStream().read()).as("and the connection closed").isEqualTo(-1);
    assertThat(received.get()).as("nothing of it reached the node whole").isZero();
    HttpResponse<String> ok = http.send(post("t-noisy", "{\"v\":1}\n"), ofString());
    assertThat(ok.statusCode()).as("a request at a normal pace goes through").isEqualTo(200);
  }

  @Test
  void deadLettersCountAgainstTheEventsQuotaLikeAcceptedEvents() throws Exception {
    startRouter(Map.of());
    // a request of only bad records under a dead-letter policy: the node stores them all as dead
    // letters and answers 200 with nothing accepted (the node's own quota is skipped for a router)
    nodeAnswer.set(
        new JsonObject().put("accepted", 0).put("dead_lettered", 100).put("partition_id", 0));
    HttpResponse<String> first = http.send(post("t-counted", "not json\n"), ofString());
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    // 100 stored records overdraw a 10 events/s bucket by 9 seconds: the next request waits
    HttpResponse<String> second = http.send(post("t-counted", "not json\n"), ofString());
    assertThat(second.statusCode())
        .as("dead letters are charged like events: " + second.body())
        .isEqualTo(429);
    assertThat(new JsonObject(second.body()).getString("error")).isEqualTo("too_many_requests");
    assertThat(Long.parseLong(second.headers().firstValue("Retry-After").orElseThrow()))
        .as("the seconds until 90 events' overdraft refills")
        .isBetween(5L, 9L);
    assertThat(received.get()).as("the refused request never reached the node").isEqualTo(1);
    String metrics =
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + "/metrics"))
                    .header("Authorization", "Bearer t-ops")
                    .build(),
                ofString())
            .body();
    assertThat(metrics)
        .contains("floe_router_throttled_total{kind=\"events\",token=\"counted\"} 1.0")
        .as("dead letters are not counted as the stream's events")
        .contains("floe_router_stream_events_total{stream=\"s\"} 0.0");
  }

  private static HttpResponse.BodyHandler<String> ofString() {
    return HttpResponse.BodyHandlers.ofString();
  }
}
