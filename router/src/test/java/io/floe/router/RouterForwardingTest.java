package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.Settings;
import io.floe.common.net.FreePort;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The router against real HTTP peers speaking the node's API (health endpoint, ingestion answer),
 * to pin down forwarding semantics: keys stick, bodies arrive intact, connect failures are retried
 * elsewhere, failures after sending are not, membership reloads without a restart.
 */
class RouterForwardingTest {
  @TempDir Path tmp;
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http = HttpClient.newHttpClient();
  private Router router;

  /** A peer that answers like a node and remembers what it got. */
  final class Peer {
    final String name;
    final int partition;
    final AtomicBoolean ready = new AtomicBoolean(true);
    final AtomicBoolean dropAfterRead = new AtomicBoolean(false);

    /**
     * Like a node's body limit: a Content-Length over it is refused with 413 before the body is
     * read.
     */
    final AtomicInteger refuseOver = new AtomicInteger(Integer.MAX_VALUE);

    /** Milliseconds before an ingestion answer. */
    final AtomicInteger delayMillis = new AtomicInteger();

    final AtomicInteger received = new AtomicInteger();
    final Map<String, String> bodies = new ConcurrentHashMap<>();

    /**
     * Idempotency keys seen: a repeat is answered as a node answers one, with Idempotency-Replayed.
     */
    final Set<String> idempotencyKeys = ConcurrentHashMap.newKeySet();

    HttpServer server;

    Peer(String name) throws Exception {
      this(name, -1);
    }

    Peer(String name, int partition) throws Exception {
      this.name = name;
      this.partition = partition;
      server =
          vertx
              .createHttpServer()
              .requestHandler(
                  req -> {
                    if (req.path().equals("/health/ready")) {
                      req.response()
                          .setStatusCode(ready.get() ? 200 : 503)
                          .end(new JsonObject().put("partition_id", partition).encode());
                      return;
                    }
                    if (req.path().equals("/v1/partitions/" + partition + "/committed")) {
                      req.response()
                          .putHeader("Content-Type", "application/json")
                          .end(
                              new JsonObject()
                                  .put("partition_id", partition)
                                  .put("committed_sequence", 42)
                                  .put("wait_for", req.getParam("wait_for"))
                                  .encode());
                      return;
                    }
                    String length = req.getHeader("Content-Length");
                    if (length != null && Long.parseLong(length) > refuseOver.get()) {
                      req.response()
                          .setStatusCode(413)
                          .putHeader("Content-Type", "application/json")
                          .end(new JsonObject().put("error", "too_large").encode());
                      return;
                    }
                    req.body()
                        .onSuccess(
                            body -> {
                              received.incrementAndGet();
                              if (dropAfterRead.get()) {
                                req.connection().close();
                                return;
                              }
                              bodies.put(
                                  req.getHeader("Content-Type")
                                      + " "
                                      + req.getHeader("Content-Encoding"),
                                  body.toString());
                              String answer =
                                  new JsonObject()
                                      .put("node", name)
                                      .put("bytes", body.length())
                                      .encode();
                              String idempotencyKey = req.getHeader("Idempotency-Key");
                              if (idempotencyKey != null && !idempotencyKeys.add(idempotencyKey)) {
                                req.response().putHeader("Idempotency-Replayed", "true");
                              }
                              if (delayMillis.get() > 0) {
                                vertx.setTimer(
                                    delayMillis.get(),
                                    t ->
                                        req.response()
                                            .putHeader("Content-Type", "application/json")
                                            .end(answer));
                              } else {
                                req.response()
                                    .putHeader("Content-Type", "application/json")
                                    .end(answer);
                              }
                            });
                  })
              .listen(0)
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
    }

    String address() {
      return "127.0.0.1:" + server.actualPort();
    }
  }

  @AfterEach
  void stop() throws Exception {
    if (router != null) {
      router.close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private Router start(Map<String, String> env) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    if (!all.containsKey("FLOE_AUTH_TOKENS_FILE")) {
      all.put(
          "FLOE_AUTH_DISABLED",
          "true"); // forwarding is the subject here; RouterAuthTest covers tokens
    }
    // these peers count every request they get: no console sampling (ClusterEndpointTest has it)
    all.putIfAbsent("FLOE_ROUTER_CONSOLE_SAMPLE_SECONDS", "0");
    router = Router.start(RouterConfig.load(Settings.from(all)));
    return router;
  }

  private HttpResponse<String> post(String query, String body, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + router.port() + "/v1/streams/s/events" + query))
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(body));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private void awaitHealthy(int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      var status =
          new JsonObject(
              http.send(
                      HttpRequest.newBuilder(
                              URI.create("http://127.0.0.1:" + router.port() + "/v1/status"))
                          .build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body());
      long healthy =
          status.getJsonArray("nodes").stream()
              .filter(o -> ((JsonObject) o).getBoolean("healthy"))
              .count();
      if (healthy == n) {
        return;
      }
      assertThat(System.nanoTime()).as("%d healthy nodes", n).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void aBodyRefusedEarlyLeavesNoHalfUsedConnectionInThePool() throws Exception {
    Peer a = new Peer("a");
    a.refuseOver.set(1 << 20);
    // one pooled connection: the requests after the refused one must not inherit a broken
    // connection
    start(
        Map.of(
            "FLOE_ROUTER_NODES",
            a.address(),
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.1",
            "FLOE_ROUTER_CONNECTIONS_PER_NODE",
            "1",
            "FLOE_ROUTER_REQUEST_TIMEOUT_SECONDS",
            "10"));
    awaitHealthy(1);
    // a client that, like curl, stops sending its 20 MB body once the 413 is in, and hangs up
    try (Socket socket = new Socket("127.0.0.1", router.port())) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("POST /v1/streams/s/events?key=k HTTP/1.1\r\nHost: floe\r\nContent-Type: application/x-ndjson\r\n"
                  + "Content-Length: 20000000\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      byte[] chunk =
          ("{\"pad\":\"" + "x".repeat(1000) + "\"}\n")
              .repeat(64)
              .getBytes(StandardCharsets.US_ASCII);
      for (int i = 0; i < 16; i++) {
        out.write(chunk);
      }
      out.flush();
      socket.setSoTimeout(10_000);
      byte[] head = new byte[12];
      int n = socket.getInputStream().readNBytes(head, 0, head.length);
      assertThat(new String(head, 0, n, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 413");
    }
    for (int i = 0; i < 3; i++) {
      long start = System.nanoTime();
      HttpResponse<String> ok = post("?key=k", "{\"n\":" + i + "}\n");
      assertThat(ok.statusCode())
          .as("request %d after the refusal: %s", i, ok.body())
          .isEqualTo(200);
      assertThat(System.nanoTime() - start)
          .as("answered without waiting for a timeout")
          .isLessThan(TimeUnit.SECONDS.toNanos(3));
    }
  }

  @Test
  void brokenChunkedFramingIsAnswered400AndNothingReachesANode() throws Exception {
    Peer a = new Peer("a");
    start(
        Map.of(
            "FLOE_ROUTER_NODES",
            a.address(),
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.1"));
    awaitHealthy(1);
    for (String broken :
        List.of("zz\r\n", "fffffffffffffffffffff\r\n", "8\r\n{\"a\":1}\nXX0\r\n\r\n")) {
      try (Socket socket = new Socket("127.0.0.1", router.port())) {
        socket
            .getOutputStream()
            .write(
                ("POST /v1/streams/s/events HTTP/1.1\r\nHost: floe\r\n"
                        + "Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n{\"b\":2}\n\r\n"
                        + broken)
                    .getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        socket.setSoTimeout(10_000);
        String answer =
            new String(socket.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertThat(answer)
            .as(broken)
            .startsWith("HTTP/1.1 400")
            .contains("\"error\":\"malformed_encoding\"");
      }
    }
    assertThat(post("?key=k", "{\"n\":1}\n").statusCode()).isEqualTo(200);
    assertThat(a.received.get()).as("only the good request reached the node whole").isEqualTo(1);
  }

  @Test
  void aBusyNodeIsAnsweredWith503WithinThePoolWaitAndStaysHealthy() throws Exception {
    Peer a = new Peer("a");
    a.delayMillis.set(3000);
    start(
        Map.of(
            "FLOE_ROUTER_NODES",
            a.address(),
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.1",
            "FLOE_ROUTER_CONNECTIONS_PER_NODE",
            "1",
            "FLOE_ROUTER_POOL_WAIT_SECONDS",
            "0.3"));
    awaitHealthy(1);
    var slow =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return post("", "{\"n\":1}\n");
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(300); // the only connection is now taken by the slow request
    long start = System.nanoTime();
    HttpResponse<String> busy = post("", "{\"n\":2}\n");
    assertThat(busy.statusCode()).as(busy.body()).isEqualTo(503);
    assertThat(new JsonObject(busy.body()).getString("detail")).contains("no free connection");
    assertThat(busy.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(System.nanoTime() - start)
        .as("bounded by router.pool-wait-seconds")
        .isLessThan(TimeUnit.SECONDS.toNanos(2));
    var status =
        new JsonObject(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + router.port() + "/v1/status"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body());
    assertThat(status.getJsonArray("nodes").getJsonObject(0).getBoolean("healthy"))
        .as("a full pool is load, not a failed node")
        .isTrue();
    assertThat(slow.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
  }

  @Test
  void aRetryWithTheSameIdempotencyKeyReachesTheSameNode() throws Exception {
    Peer a = new Peer("a", 1);
    Peer b = new Peer("b", 2);
    start(
        Map.of(
            "FLOE_ROUTER_NODES",
            a.address() + "," + b.address(),
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.1"));
    awaitHealthy(2);
    Set<String> nodes = new HashSet<>();
    Map<String, String> owners = new HashMap<>();
    for (int i = 0; i < 20; i++) {
      HttpResponse<String> first = post("", "{\"n\":" + i + "}\n", "Idempotency-Key", "order-" + i);
      HttpResponse<String> retry = post("", "{\"n\":" + i + "}\n", "Idempotency-Key", "order-" + i);
      assertThat(retry.headers().firstValue("X-Floe-Node"))
          .isEqualTo(first.headers().firstValue("X-Floe-Node"));
      assertThat(first.headers().firstValue("Idempotency-Replayed")).isEmpty();
      assertThat(retry.headers().firstValue("Idempotency-Replayed")).hasValue("true");
      nodes.add(first.headers().firstValue("X-Floe-Node").orElseThrow());
      owners.put("order-" + i, first.headers().firstValue("X-Floe-Node").orElseThrow());
    }
    assertThat(nodes).as("keys spread over both nodes").hasSize(2);

    // while a key's node is down its retries are refused, not sent where the key is unknown
    a.ready.set(false);
    awaitHealthy(1);
    for (Map.Entry<String, String> e : owners.entrySet()) {
      HttpResponse<String> r = post("", "{}\n", "Idempotency-Key", e.getKey());
      if (e.getValue().equals(a.address())) {
        assertThat(r.statusCode()).as("key of the node that is down").isEqualTo(503);
        assertThat(r.headers().firstValue("Retry-After")).isPresent();
        assertThat(new JsonObject(r.body()).getString("detail"))
            .contains("retry with the same Idempotency-Key");
      } else {
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Floe-Node")).hasValue(b.address());
      }
    }
  }

  @Test
  void aReceiptIsAnsweredByTheNodeThatHoldsThePartition() throws Exception {
    Peer a = new Peer("a", 1);
    Peer b = new Peer("b", 2);
    start(
        Map.of(
            "FLOE_ROUTER_NODES",
            a.address() + "," + b.address(),
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.1"));
    awaitHealthy(2);
    for (Peer p : List.of(a, b)) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      URI.create(
                          "http://127.0.0.1:"
                              + router.port()
                              + "/v1/partitions/"
                              + p.partition
                              + "/committed?wait_for=7"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("X-Floe-Node")).hasValue(p.address());
      assertThat(new JsonObject(r.body()).getInteger("partition_id")).isEqualTo(p.partition);
      assertThat(new JsonObject(r.body()).getString("wait_for")).isEqualTo("7");
    }
    HttpResponse<String> unknown =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + router.port() + "/v1/partitions/9/committed"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(unknown.statusCode()).isEqualTo(404);
  }

  @Test
  void keysStickToOneNodeAndBodiesArriveIntact() throws Exception {
    Peer a = new Peer("a");
    Peer b = new Peer("b");
    start(
        Map.of(
            "FLOE_ROUTER_NODES",
            a.address() + "," + b.address(),
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.1",
            "FLOE_ROUTER_EVENT_LOOPS",
            "2"));
    awaitHealthy(2);
    String body = "{\"a\":1}\n".repeat(20_000);
    HttpResponse<String> first = post("?key=user-7", body, "Content-Encoding", "identity");
    assertThat(first.statusCode()).isEqualTo(200);
    String node = new JsonObject(first.body()).getString("node");
    assertThat(new JsonObject(first.body()).getInteger("bytes")).isEqualTo(body.length());
    for (int i = 0; i < 20; i++) {
      assertThat(new JsonObject(post("", "{}", "X-Floe-Key", "user-7").body()).getString("node"))
          .isEqualTo(node);
    }
    Peer chosen = node.equals("a") ? a : b;
    assertThat(chosen.bodies).containsEntry("application/x-ndjson identity", body);
    // without a key both nodes get work
    for (int i = 0; i < 40; i++) {
      post("", "{}");
    }
    assertThat(a.received.get()).isPositive();
    assertThat(b.received.get()).isPositive();
  }

  @Test
  void connectFailuresAreRetriedElsewhereButFailuresAfterSendingAreNot() throws Exception {
    Peer live = new Peer("live");
    int dead = FreePort.pick();
    start(
        Map.of(
            "FLOE_ROUTER_NODES",
            live.address() + ",127.0.0.1:" + dead,
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "60"));
    // the dead node may look healthy before its first check completes: requests must still succeed
    for (int i = 0; i < 10; i++) {
      HttpResponse<String> r = post("", "{}", "X-Floe-Key", "k" + i);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(r.body()).getString("node")).isEqualTo("live");
    }
    live.dropAfterRead.set(true);
    int before = live.received.get();
    HttpResponse<String> r = post("", "{}");
    assertThat(r.statusCode()).isEqualTo(502);
    assertThat(new JsonObject(r.body()).getString("detail")).contains("after the request was sent");
    assertThat(live.received.get()).isEqualTo(before + 1);
  }

  @Test
  void unhealthyNodesAreTakenOutAndNoHealthyNodeMeans503() throws Exception {
    Peer a = new Peer("a");
    Peer b = new Peer("b");
    start(
        Map.of(
            "FLOE_ROUTER_NODES",
            a.address() + "," + b.address(),
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.05",
            "FLOE_ROUTER_UNHEALTHY_AFTER",
            "1"));
    awaitHealthy(2);
    a.ready.set(false);
    awaitHealthy(1);
    for (int i = 0; i < 10; i++) {
      assertThat(new JsonObject(post("", "{}", "X-Floe-Key", "k" + i).body()).getString("node"))
          .isEqualTo("b");
    }
    b.ready.set(false);
    awaitHealthy(0);
    HttpResponse<String> r = post("", "{}");
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
    assertThat(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + router.port() + "/health/ready"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .statusCode())
        .isEqualTo(503);
  }

  @Test
  void membershipReloadsFromItsFileWithoutARestart() throws Exception {
    Peer a = new Peer("a");
    Peer b = new Peer("b");
    Path file = tmp.resolve("nodes");
    Files.writeString(file, a.address() + "\n");
    start(
        Map.of(
            "FLOE_ROUTER_NODES_FILE",
            file.toString(),
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.05"));
    awaitHealthy(1);
    Files.writeString(file, b.address() + "\n");
    Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 5000));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!"b".equals(new JsonObject(post("", "{}").body()).getString("node"))) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(50);
    }
    String metrics =
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + router.port() + "/metrics"))
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains(
            "floe_router_forwarded_requests_total{node=\"" + b.address() + "\",status=\"200\"}");
    assertThat(List.of(metrics.split("\n")))
        .anyMatch(l -> l.startsWith("floe_router_forward_duration_seconds_count"));
  }

  /** Rewrites the nodes file, with a modification time the router cannot take for the last one. */
  private void writeNodes(Path file, Peer... peers) throws Exception {
    StringBuilder lines = new StringBuilder();
    for (Peer p : peers) {
      lines.append(p.address()).append('\n');
    }
    Files.writeString(file, lines);
    Files.setLastModifiedTime(
        file, FileTime.fromMillis(System.currentTimeMillis() + 5000 * ++nodesFileVersion));
  }

  private int nodesFileVersion;

  /** Waits until the router's members are exactly {@code peers}, healthy, with their partitions. */
  private void awaitMembers(Peer... peers) throws Exception {
    Set<String> expected = new HashSet<>();
    for (Peer p : peers) {
      expected.add(p.address() + " " + p.partition);
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (true) {
      var status =
          new JsonObject(
              http.send(
                      HttpRequest.newBuilder(
                              URI.create("http://127.0.0.1:" + router.port() + "/v1/status"))
                          .build(),
                      HttpResponse.BodyHandlers.ofString())
                  .body());
      Set<String> members = new HashSet<>();
      for (Object o : status.getJsonArray("nodes")) {
        JsonObject n = (JsonObject) o;
        if (n.getBoolean("healthy")) {
          members.add(n.getString("node") + " " + n.getInteger("partition_id"));
        }
      }
      if (members.equals(expected) && status.getJsonArray("nodes").size() == peers.length) {
        return;
      }
      assertThat(System.nanoTime()).as("members %s, now %s", expected, status).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void anIdempotencyKeyKeepsItsPartitionWhenNodesAreReorderedOrANodeMoves() throws Exception {
    Peer a = new Peer("a", 1);
    Peer b = new Peer("b", 2);
    Peer c = new Peer("c", 3);
    Path file = tmp.resolve("nodes");
    writeNodes(file, a, b, c);
    start(
        Map.of(
            "FLOE_ROUTER_NODES_FILE",
            file.toString(),
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.05"));
    awaitMembers(a, b, c);
    Map<String, String> owners = new HashMap<>();
    for (int i = 0; i < 60; i++) {
      HttpResponse<String> r = post("", "{}\n", "Idempotency-Key", "order-" + i);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      owners.put("order-" + i, new JsonObject(r.body()).getString("node"));
    }
    assertThat(new HashSet<>(owners.values())).containsExactlyInAnyOrder("a", "b", "c");

    writeNodes(file, c, a, b);
    Thread.sleep(300); // reloaded: the same members, in another order
    awaitMembers(a, b, c);
    for (Map.Entry<String, String> e : owners.entrySet()) {
      HttpResponse<String> r = post("", "{}\n", "Idempotency-Key", e.getKey());
      assertThat(new JsonObject(r.body()).getString("node")).as(e.getKey()).isEqualTo(e.getValue());
    }

    // b's partition moves to another address (a new host, a new port)
    Peer b2 = new Peer("b2", 2);
    writeNodes(file, c, a, b2);
    awaitMembers(a, b2, c);
    for (Map.Entry<String, String> e : owners.entrySet()) {
      HttpResponse<String> r = post("", "{}\n", "Idempotency-Key", e.getKey());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(new JsonObject(r.body()).getString("node"))
          .as(e.getKey())
          .isEqualTo(e.getValue().equals("b") ? "b2" : e.getValue());
    }
  }

  @Test
  void anIdempotencyKeyWaitsWhileANodeHasNotToldItsPartition() throws Exception {
    Peer a = new Peer("a", 1);
    int silent = FreePort.pick();
    start(
        Map.of(
            "FLOE_ROUTER_NODES",
            a.address() + ",127.0.0.1:" + silent,
            "FLOE_ROUTER_PORT",
            "0",
            "FLOE_ROUTER_HEALTH_INTERVAL_SECONDS",
            "0.05"));
    awaitHealthy(1);
    for (int i = 0; i < 10; i++) {
      // the key may belong to the silent node's partition: sent to a, it could be stored twice
      HttpResponse<String> r = post("", "{}\n", "Idempotency-Key", "order-" + i);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
      assertThat(r.headers().firstValue("Retry-After")).isPresent();
      assertThat(new JsonObject(r.body()).getString("detail"))
          .contains("127.0.0.1:" + silent)
          .contains("partition");
    }
    assertThat(post("", "{}\n").statusCode()).as("without a key: any node").isEqualTo(200);
  }
}
