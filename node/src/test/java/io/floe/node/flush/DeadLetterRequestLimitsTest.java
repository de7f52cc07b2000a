package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What stays request-level on a stream that keeps dead letters, and how a request's dead letters
 * count in the node's in-flight budget: a refused request (authentication, quota, size, encoding,
 * media type) is answered with its own 4xx and a JSON error, and writes neither an event nor a dead
 * letter; a mixed request that fits the budget is taken, a flood of bad records is refused with
 * 503.
 */
class DeadLetterRequestLimitsTest {
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private static final String PRODUCER_TOKEN = "t-producer";
  private static final String SLOW_TOKEN = "t-slow";
  private static final String OPS_TOKEN = "t-ops";
  private static final String MIXED = "{\"id\":1}\nnot json\n[1,2]\n{\"id\":4}\n";

  @TempDir Path tmp;

  @Test
  void refusalsOfTheRequestStayRequestLevelAndWriteNothing() throws Exception {
    Path tokens =
        Files.write(
            tmp.resolve("tokens"),
            List.of(
                TokenStore.line("producer", "ingest", PRODUCER_TOKEN),
                TokenStore.line("slow", "ingest", SLOW_TOKEN) + " events-per-second=100",
                TokenStore.line("ops", "read", OPS_TOKEN)));
    try (TableEnv env = TableEnv.start(tmp);
        Node node =
            node(
                env,
                Map.of(
                    "auth.tokens-file",
                    tokens.toString(),
                    "ingest.max-body-bytes",
                    "4KiB",
                    "ingest.max-decoded-bytes",
                    "8KiB",
                    "ingest.max-event-bytes",
                    "1KiB"))) {
      assertThat(DeadLetterIngestTest.setPolicy(env, "orders", "dead_letter").statusCode())
          .isEqualTo(200);
      node.refreshColumns();
      // the stream keeps dead letters: a mixed request is taken, both ways of asking
      assertThat(send(node, PRODUCER_TOKEN, MIXED, "application/x-ndjson").statusCode())
          .isEqualTo(200);
      long hwm = node.buffer().highWaterMark();
      int deadBatches = DeadLetterIngestTest.deadLetters(node).size();
      byte[] mixed = MIXED.getBytes(StandardCharsets.UTF_8);

      for (boolean header : new boolean[] {false, true}) {
        String[] onError = header ? new String[] {"Floe-On-Error", "dead-letter"} : new String[0];
        // authentication
        refused(send(node, "t-wrong", mixed, "application/x-ndjson", onError), 401);
        refused(send(node, null, mixed, "application/x-ndjson", onError), 401);
        // size: declared, and sent chunked without a length
        refused(
            send(node, PRODUCER_TOKEN, oversize(), "application/x-ndjson", onError),
            413,
            "too_large");
        refused(chunked(node, oversize(), onError), 413, "too_large");
        // decompressed size
        refused(
            send(
                node,
                PRODUCER_TOKEN,
                gzip("not json\n".repeat(2_000)),
                "application/x-ndjson",
                concat(onError, "Content-Encoding", "gzip")),
            413,
            "too_large");
        // encoding: one not supported, one that is not what it says
        refused(
            send(
                node,
                PRODUCER_TOKEN,
                mixed,
                "application/x-ndjson",
                concat(onError, "Content-Encoding", "br")),
            415);
        refused(
            send(
                node,
                PRODUCER_TOKEN,
                mixed,
                "application/x-ndjson",
                concat(onError, "Content-Encoding", "gzip")),
            400,
            "malformed_encoding");
        // media type: not supported, and missing
        refused(send(node, PRODUCER_TOKEN, mixed, "text/plain", onError), 415);
        refused(send(node, PRODUCER_TOKEN, mixed, null, onError), 415);
      }

      // a quota: a request of only bad records counts against it, and the next one over it is
      // refused whole
      HttpResponse<String> bad =
          send(node, SLOW_TOKEN, "oops\n".repeat(150), "application/x-ndjson");
      assertThat(bad.statusCode()).as(bad.body()).isEqualTo(200);
      assertThat(new JsonObject(bad.body()).getInteger("dead_lettered")).isEqualTo(150);
      hwm = node.buffer().highWaterMark();
      deadBatches = DeadLetterIngestTest.deadLetters(node).size();
      for (boolean header : new boolean[] {false, true}) {
        String[] onError = header ? new String[] {"Floe-On-Error", "dead-letter"} : new String[0];
        refused(send(node, SLOW_TOKEN, mixed, "application/x-ndjson", onError), 429);
      }
      assertThat(node.buffer().highWaterMark()).as("nothing written").isEqualTo(hwm);
      assertThat(DeadLetterIngestTest.deadLetters(node)).hasSize(deadBatches);
      assertThat(status(node).getLong("inflight_bytes")).isZero();
    }
  }

  /**
   * Each byte a request holds counts once: a mixed request whose events and dead letters fit the
   * budget beside its body is taken; its dead letters are not counted a second time once decoded.
   */
  @Test
  void aMixedRequestThatFitsTheBudgetIsTakenAndAFloodOfBadRecordsIsRefused() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node =
            node(
                env,
                Map.of(
                    "ingest.inflight-max-bytes", "1MiB",
                    "ingest.max-body-bytes", "1MiB",
                    "ingest.max-event-bytes", "8KiB"))) {
      DeadLetterIngestTest.setPolicy(env, "orders", "dead_letter");
      node.refreshColumns();
      // 170 good lines and 170 bad ones (arrays: not objects) of 1 KiB each: while it is decoded
      // the request holds its body (340 KiB), the batch's buffer (a quarter more) and its dead
      // letters' copies (170 KiB and a little): about 1 MiB less 60 KiB; twice the dead letters
      // would not fit
      StringBuilder body = new StringBuilder();
      String pad = "x".repeat(1024 - 20);
      String array = "[" + "1,".repeat((1024 - 3) / 2) + "1]";
      for (int i = 0; i < 170; i++) {
        body.append("{\"id\":").append(1000 + i).append(",\"p\":\"").append(pad, 0, 1004 - 8);
        body.append("\"}\n").append(array).append('\n');
      }
      long hwm = node.buffer().highWaterMark();
      HttpResponse<String> r =
          send(
              node, null, body.toString().getBytes(StandardCharsets.UTF_8), "application/x-ndjson");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonObject answer = new JsonObject(r.body());
      assertThat(answer.getLong("accepted")).isEqualTo(170);
      assertThat(answer.getInteger("dead_lettered")).isEqualTo(170);
      assertThat(node.buffer().highWaterMark()).isEqualTo(hwm + 340);

      // a flood of bad records outgrows the budget while it is kept: 503, nothing written
      hwm = node.buffer().highWaterMark();
      HttpResponse<String> flood =
          send(
              node,
              null,
              "x\n".repeat(400_000).getBytes(StandardCharsets.UTF_8),
              "application/x-ndjson");
      assertThat(flood.statusCode()).as(flood.body()).isEqualTo(503);
      assertThat(new JsonObject(flood.body()).getString("error")).isEqualTo("unavailable");
      assertThat(node.buffer().highWaterMark()).isEqualTo(hwm);
      assertThat(status(node).getLong("inflight_bytes"))
          .as("every reservation given back")
          .isZero();
    }
  }

  private static void refused(HttpResponse<String> r, int status) {
    refused(r, status, null);
  }

  private static void refused(HttpResponse<String> r, int status, String error) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    JsonObject body = new JsonObject(r.body());
    assertThat(body.getString("error")).isNotBlank();
    assertThat(body.getString("detail")).isNotBlank();
    if (error != null) {
      assertThat(body.getString("error")).isEqualTo(error);
    }
  }

  private JsonObject status(Node node) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/v1/status"));
    b.header("Authorization", "Bearer " + OPS_TOKEN);
    return new JsonObject(HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString()).body());
  }

  private static byte[] oversize() {
    return "not json\n".repeat(1_000).getBytes(StandardCharsets.UTF_8);
  }

  private static byte[] gzip(String text) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(text.getBytes(StandardCharsets.UTF_8));
    }
    return out.toByteArray();
  }

  private static String[] concat(String[] headers, String name, String value) {
    String[] out = new String[headers.length + 2];
    System.arraycopy(headers, 0, out, 0, headers.length);
    out[headers.length] = name;
    out[headers.length + 1] = value;
    return out;
  }

  private static HttpResponse<String> send(Node node, String token, String body, String contentType)
      throws Exception {
    return send(node, token, body.getBytes(StandardCharsets.UTF_8), contentType);
  }

  /** Posts {@code body} to stream orders with {@code token} (null: none), then header pairs. */
  private static HttpResponse<String> send(
      Node node, String token, byte[] body, String contentType, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url(node)))
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    if (contentType != null) {
      b.header("Content-Type", contentType);
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** As {@link #send} with the producer's token, with no Content-Length: sent chunked. */
  private static HttpResponse<String> chunked(Node node, byte[] body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url(node)))
            .header("Authorization", "Bearer " + PRODUCER_TOKEN)
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(body)));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String url(Node node) {
    return "http://127.0.0.1:" + node.port() + "/v1/streams/orders/events";
  }

  private static Node node(TableEnv env, Map<String, String> extra) throws Exception {
    Map<String, String> s = env.nodeSettings(0);
    s.put("columns.refresh-seconds", "1");
    if (extra.containsKey("auth.tokens-file")) {
      s.remove("auth.disabled");
    }
    s.putAll(extra);
    return Node.start(NodeConfig.load(Settings.of(s)));
  }
}
