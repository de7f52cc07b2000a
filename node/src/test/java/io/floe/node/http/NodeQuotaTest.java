package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.auth.TokenStore;
import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import io.vertx.core.json.JsonObject;
import java.net.Socket;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A token with a quota: over it, 429 with Retry-After and nothing stored; after the wait, accepted
 * again.
 */
class NodeQuotaTest {
  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();
  private Node node;

  @AfterEach
  void stop() throws Exception {
    node.close();
  }

  private HttpResponse<String> send(String token, int events) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/v1/streams/s/events"))
            .header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString("{\"v\":1}\n".repeat(events)))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aTokenOverItsEventsPerSecondWaitsAndOthersDoNot() throws Exception {
    Path tokens =
        Files.write(
            dir.resolve("tokens"),
            List.of(
                TokenStore.line("slow", "ingest", "t-slow") + " events-per-second=100",
                TokenStore.line("fast", "ingest", "t-fast"),
                TokenStore.line("ops", "read", "t-ops")));
    node =
        BufferOnlyNode.start(dir.resolve("rocks"), Map.of("auth.tokens-file", tokens.toString()));

    assertThat(send("t-slow", 150).statusCode())
        .as("the first request may overdraw the bucket")
        .isEqualTo(200);
    HttpResponse<String> refused = send("t-slow", 1);
    assertThat(refused.statusCode()).isEqualTo(429);
    long retryAfter = Long.parseLong(refused.headers().firstValue("Retry-After").orElseThrow());
    assertThat(retryAfter).isBetween(1L, 2L);
    assertThat(new JsonObject(refused.body()).getString("error")).isEqualTo("too_many_requests");
    assertThat(node.buffer().highWaterMark())
        .as("nothing of the refused request is stored")
        .isEqualTo(150);

    assertThat(send("t-fast", 1000).statusCode()).as("another token is not slowed").isEqualTo(200);

    Thread.sleep(retryAfter * 1000 + 100);
    assertThat(send("t-slow", 10).statusCode())
        .as("after Retry-After it is accepted again")
        .isEqualTo(200);
    String metrics =
        http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/metrics"))
                    .header("Authorization", "Bearer t-ops")
                    .build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics)
        .contains("floe_node_throttled_total{kind=\"events\",token=\"slow\"} 1.0")
        .doesNotContain("t-slow");
  }

  @Test
  void aTokenMayHoldOnlySoManyRequestsAtOnce() throws Exception {
    Path tokens =
        Files.write(
            dir.resolve("tokens"),
            List.of(
                TokenStore.line("noisy", "ingest", "t-noisy"),
                TokenStore.line("quiet", "ingest", "t-quiet")));
    node =
        BufferOnlyNode.start(
            dir.resolve("rocks"),
            Map.of("auth.tokens-file", tokens.toString(), "auth.max-concurrent-requests", "2"));
    List<Socket> stalled = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Socket s = new Socket("127.0.0.1", node.port());
        stalled.add(s);
        s.getOutputStream()
            .write(
                ("POST /v1/streams/s/events HTTP/1.1\r\nHost: n\r\nContent-Type: application/x-ndjson\r\n"
                        + "Authorization: Bearer t-noisy\r\nContent-Length: 100\r\n\r\n{")
                    .getBytes(StandardCharsets.US_ASCII));
        s.getOutputStream().flush();
        Thread.sleep(100);
      }
      Socket third = stalled.get(2);
      third.setSoTimeout(5_000);
      byte[] head = new byte[12];
      int n = third.getInputStream().readNBytes(head, 0, head.length);
      assertThat(new String(head, 0, n, StandardCharsets.US_ASCII))
          .as("the third request of a token limited to two at once")
          .isEqualTo("HTTP/1.1 429");
      assertThat(send("t-quiet", 1).statusCode()).as("another token goes on").isEqualTo(200);
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
    Thread.sleep(200);
    assertThat(send("t-noisy", 1).statusCode())
        .as("once its requests ended, the token may send again")
        .isEqualTo(200);
  }
}
