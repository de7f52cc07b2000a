package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

class NodeHttpTest {
  @TempDir Path dir;
  private Node node;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private Node start(Map<String, String> overrides) throws Exception {
    Map<String, String> s =
        new HashMap<>(
            Map.of(
                "node.partition-id",
                "3",
                "ingest.max-body-bytes",
                "1MiB",
                "ingest.max-event-bytes",
                "64KiB"));
    s.putAll(overrides);
    node = BufferOnlyNode.start(dir.resolve("rocks"), s);
    return node;
  }

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  private HttpResponse<String> post(String path, String contentType, byte[] body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> ndjson(String stream, String body) throws Exception {
    return post(
        "/v1/streams/" + stream + "/events",
        "application/x-ndjson",
        body.getBytes(StandardCharsets.UTF_8));
  }

  private HttpResponse<String> get(String path, String... headers) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonObject status() throws Exception {
    return new JsonObject(get("/v1/status").body());
  }

  @Test
  void acceptsEveryFormatAndAnswersWithSequences() throws Exception {
    start(Map.of());
    HttpResponse<String> r = ndjson("clicks", "{\"key\":\"a\",\"v\":1}\n{\"v\":2}\n");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(r.body()))
        .isEqualTo(
            new JsonObject()
                .put("accepted", 2)
                .put("partition_id", 3)
                .put("first_sequence", 1)
                .put("last_sequence", 2));

    r =
        post(
            "/v1/streams/clicks/events",
            "application/json",
            "[{\"v\":3},{\"v\":4},{\"v\":5}]".getBytes());
    assertThat(new JsonObject(r.body()).getLong("first_sequence")).isEqualTo(3);

    ByteArrayOutputStream gz = new ByteArrayOutputStream();
    try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
      out.write("{\"v\":6}".getBytes(StandardCharsets.UTF_8));
    }
    r =
        post(
            "/v1/streams/clicks/events",
            "application/json",
            gz.toByteArray(),
            "Content-Encoding",
            "gzip");
    assertThat(new JsonObject(r.body()).getLong("last_sequence")).isEqualTo(6);

    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    p.packMapHeader(1).packString("v").packInt(7);
    r = post("/v1/streams/clicks/events", "application/msgpack", p.toByteArray());
    assertThat(r.statusCode()).isEqualTo(200);

    JsonObject status = status();
    assertThat(status.getLong("high_water_mark")).isEqualTo(7);
    assertThat(status.getLong("buffered_events")).isEqualTo(7);
    assertThat(get("/metrics").body())
        .contains("floe_node_events_accepted_total 7.0")
        .containsPattern("floe_node_event_loop_delay_seconds_count [1-9]");
  }

  @Test
  void badInputGetsAClearErrorAndChangesNothing() throws Exception {
    start(Map.of());
    ndjson("clicks", "{\"v\":0}");
    JsonObject before = status();
    String big = "{\"x\":\"" + "y".repeat(70 * 1024) + "\"}";
    record Case(int status, String error, String detailPart, HttpResponse<String> response) {}
    List<Case> cases =
        List.of(
            new Case(
                400, "malformed_json", "line 2", ndjson("clicks", "{\"v\":1}\n{\"v\":\n{\"v\":3}")),
            new Case(
                400,
                "not_an_object",
                "element 2",
                post("/v1/streams/clicks/events", "application/json", "[{\"v\":1},7]".getBytes())),
            new Case(
                400,
                "bad_event_time",
                "line 1",
                ndjson("clicks", "{\"event_time\":\"not a time\"}")),
            new Case(400, "bad_stream", "stream name", ndjson("Bad.Stream", "{\"v\":1}")),
            new Case(400, "no_events", "no events", ndjson("clicks", "")),
            new Case(
                400,
                "malformed_msgpack",
                "element 1",
                post("/v1/streams/clicks/events", "application/msgpack", new byte[] {(byte) 0xc1})),
            new Case(
                400,
                "malformed_encoding",
                "gzip",
                post(
                    "/v1/streams/clicks/events",
                    "application/json",
                    "{}".getBytes(),
                    "Content-Encoding",
                    "gzip")),
            new Case(
                413, "too_large", "ingest.max-event-bytes", ndjson("clicks", "{\"v\":1}\n" + big)),
            new Case(
                413,
                "too_large",
                "ingest.max-body-bytes",
                post("/v1/streams/clicks/events", "application/x-ndjson", new byte[(1 << 20) + 1])),
            new Case(
                415,
                "unsupported_media_type",
                "text/plain",
                post("/v1/streams/clicks/events", "text/plain", "{}".getBytes())),
            new Case(
                415,
                "unsupported_media_type",
                "Content-Type is missing",
                post("/v1/streams/clicks/events", null, "{}".getBytes())),
            new Case(
                415,
                "unsupported_media_type",
                "br",
                post(
                    "/v1/streams/clicks/events",
                    "application/json",
                    "{}".getBytes(),
                    "Content-Encoding",
                    "br")),
            new Case(404, "not_found", "/v2/nothing", get("/v2/nothing")),
            new Case(405, "method_not_allowed", "GET", get("/v1/streams/clicks/events")));
    for (Case c : cases) {
      assertThat(c.response().statusCode()).as(c.response().body()).isEqualTo(c.status());
      assertThat(c.response().headers().firstValue("Content-Type")).hasValue("application/json");
      JsonObject body = new JsonObject(c.response().body());
      assertThat(body.getString("error")).as(c.response().body()).isEqualTo(c.error());
      assertThat(body.getString("detail")).contains(c.detailPart());
    }
    JsonObject after = status();
    assertThat(after.getLong("high_water_mark")).isEqualTo(before.getLong("high_water_mark"));
    assertThat(after.getLong("buffered_bytes")).isEqualTo(before.getLong("buffered_bytes"));
    int[] stored = {0};
    node.buffer()
        .forEachBatch(
            0,
            (first, b) -> {
              stored[0] += b.count();
              return true;
            });
    assertThat(stored[0]).isEqualTo(1);
    assertThat(get("/metrics").body())
        .contains("floe_node_requests_rejected_total{reason=\"too_large\"} 2.0");
  }

  @Test
  void tokenIsRequiredWhenConfigured() throws Exception {
    start(Map.of("http.auth-token", "s3cret"));
    assertThat(ndjson("clicks", "{}").statusCode()).isEqualTo(401);
    assertThat(
            post(
                    "/v1/streams/clicks/events",
                    "application/json",
                    "{}".getBytes(),
                    "Authorization",
                    "Bearer wrong")
                .statusCode())
        .isEqualTo(401);
    assertThat(get("/v1/status").statusCode()).isEqualTo(401);
    assertThat(
            post(
                    "/v1/streams/clicks/events",
                    "application/json",
                    "{}".getBytes(),
                    "Authorization",
                    "Bearer s3cret")
                .statusCode())
        .isEqualTo(200);
    assertThat(get("/health/ready").statusCode()).isEqualTo(200);
    assertThat(node.buffer().highWaterMark()).isEqualTo(1);
  }

  @Test
  void inflightBudgetAnswers503AndIsReleasedWhenTheClientGoesAway() throws Exception {
    start(Map.of("ingest.inflight-max-bytes", "1MiB"));
    try (Socket slow = new Socket("127.0.0.1", node.port())) {
      OutputStream out = slow.getOutputStream();
      out.write(
          ("POST /v1/streams/clicks/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                  + "Content-Length: 1000000\r\n\r\n{\"v\":")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      awaitInflight(1);
      HttpResponse<String> r =
          ndjson("clicks", "{\"v\":1}".repeat(1) + "\n" + "{\"v\":2}\n".repeat(10_000));
      assertThat(r.statusCode()).isEqualTo(503);
      assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
      assertThat(new JsonObject(r.body()).getString("detail"))
          .contains("ingest.inflight-max-bytes");
    }
    awaitInflight(0);
    assertThat(ndjson("clicks", "{\"v\":1}").statusCode()).isEqualTo(200);
    assertThat(node.buffer().highWaterMark()).isEqualTo(1);
  }

  private void awaitInflight(long requests) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (status().getLong("inflight_requests") != requests) {
      assertThat(System.nanoTime()).as("in-flight requests reach " + requests).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void fullBufferAnswers503AndIsNotReady() throws Exception {
    start(Map.of("buffer.max-bytes", "1MiB"));
    assertThat(get("/metrics").body()).contains("floe_node_ready 1.0");
    String line = "{\"v\":\"" + "z".repeat(1000) + "\"}\n";
    assertThat(ndjson("clicks", line.repeat(600)).statusCode()).isEqualTo(200);
    assertThat(ndjson("clicks", line.repeat(600)).statusCode()).isEqualTo(200);
    long hwm = node.buffer().highWaterMark();
    HttpResponse<String> r = ndjson("clicks", line);
    assertThat(r.statusCode()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).isPresent();
    assertThat(new JsonObject(r.body()).getString("detail")).contains("buffer.max-bytes");
    HttpResponse<String> ready = get("/health/ready");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(ready.body()).getString("reason")).isEqualTo("buffer_full");
    assertThat(get("/metrics").body()).contains("floe_node_ready 0.0");
    assertThat(node.buffer().highWaterMark()).isEqualTo(hwm);
  }

  @Test
  void keepAliveServesManyRequestsOnOneConnection() throws Exception {
    start(Map.of());
    byte[] request =
        ("POST /v1/streams/clicks/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + "Content-Length: 7\r\n\r\n{\"v\":1}")
            .getBytes(StandardCharsets.US_ASCII);
    try (Socket s = new Socket("127.0.0.1", node.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      for (int i = 1; i <= 3; i++) {
        out.write(request);
        out.flush();
        String response = readResponse(in);
        assertThat(response).startsWith("HTTP/1.1 200").contains("\"first_sequence\":" + i);
      }
    }
  }

  private static String readResponse(InputStream in) throws Exception {
    StringBuilder sb = new StringBuilder();
    int contentLength = -1;
    while (!sb.toString().endsWith("\r\n\r\n")) {
      sb.append((char) in.read());
    }
    for (String h : sb.toString().split("\r\n")) {
      if (h.toLowerCase().startsWith("content-length:")) {
        contentLength = Integer.parseInt(h.substring(15).trim());
      }
    }
    sb.append(new String(in.readNBytes(contentLength), StandardCharsets.UTF_8));
    return sb.toString();
  }

  @Test
  void http2CleartextWithPriorKnowledge() throws Exception {
    start(Map.of());
    Vertx vertx = Vertx.vertx();
    try {
      var client =
          vertx.createHttpClient(
              new HttpClientOptions()
                  .setProtocolVersion(HttpVersion.HTTP_2)
                  .setHttp2ClearTextUpgrade(false));
      var response =
          client
              .request(
                  new RequestOptions()
                      .setMethod(HttpMethod.POST)
                      .setHost("127.0.0.1")
                      .setPort(node.port())
                      .setURI("/v1/streams/clicks/events")
                      .putHeader("Content-Type", "application/json"))
              .compose(
                  req ->
                      req.send(Buffer.buffer("{\"v\":1}"))
                          .compose(
                              resp ->
                                  resp.body()
                                      .map(
                                          b -> resp.version() + " " + resp.statusCode() + " " + b)))
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      assertThat(response).startsWith("HTTP_2 200").contains("\"accepted\":1");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }
}
