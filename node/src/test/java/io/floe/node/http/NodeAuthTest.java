package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.auth.TokenStore;
import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each route of a node with scoped tokens: 401 without a known token, 403 without the scope, and
 * nothing stored.
 */
class NodeAuthTest {
  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();
  private Node node;

  @BeforeEach
  void start() throws Exception {
    Path tokens =
        Files.write(
            dir.resolve("tokens"),
            List.of(
                TokenStore.line("clicks-producer", "ingest:clicks,ingest:clicks-*", "t-clicks"),
                TokenStore.line("dashboard", "read", "t-read"),
                TokenStore.line("oncall", "read,admin", "t-admin"),
                TokenStore.line("router-a", "router", "t-router")));
    node =
        BufferOnlyNode.start(dir.resolve("rocks"), Map.of("auth.tokens-file", tokens.toString()));
  }

  @AfterEach
  void stop() throws Exception {
    node.close();
  }

  private int send(String method, String path, String token, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + path));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() == 401 || r.statusCode() == 403) {
      JsonObject error = new JsonObject(r.body());
      assertThat(error.getString("error"))
          .isEqualTo(r.statusCode() == 401 ? "unauthorized" : "forbidden");
      assertThat(error.getString("detail")).doesNotContain("t-");
    }
    return r.statusCode();
  }

  @Test
  void hostileAuthorizationHeadersAreRefusedAndTheNodeStaysUp() throws Exception {
    // oversized, garbled and injected headers, sent raw (a client library would refuse to send
    // them)
    String[] requests = {
      "Authorization: Bearer " + "a".repeat(20_000) + "\r\n",
      "Authorization: Bearer t-clicks\r\nAuthorization: Bearer t-admin\r\n",
      "Authorization: Bearer t-clicks t-admin\r\n",
      "Authorization: bearer\r\n",
      "Authorization: Bearer \u00ff\u00fe\r\n",
      "X-Floe-Principal: oncall\r\nAuthorization: Bearer t-read\r\n",
    };
    for (String headers : requests) {
      String status = rawPost("/v1/streams/clicks/events", headers, "{\"v\":1}");
      assertThat(status)
          .as(headers.length() > 80 ? headers.substring(0, 80) : headers)
          .matches("HTTP/1\\.1 (400|401|403|431) .*");
    }
    assertThat(node.buffer().highWaterMark()).as("none of them stored anything").isZero();
    assertThat(send("POST", "/v1/streams/clicks/events", "t-clicks", "{\"v\":1}")).isEqualTo(200);
  }

  /** The status line of a raw HTTP/1.1 request with these extra header lines. */
  private String rawPost(String path, String headers, String body) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", node.port())) {
      socket.setSoTimeout(10_000);
      byte[] payload = body.getBytes(StandardCharsets.UTF_8);
      String head =
          "POST "
              + path
              + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
              + payload.length
              + "\r\nConnection: close\r\n"
              + headers
              + "\r\n";
      socket.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().write(payload);
      socket.getOutputStream().flush();
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      String line = in.readLine();
      return line == null ? "closed" : line;
    }
  }

  @Test
  void everyRouteAnswersByScope() throws Exception {
    String event = "{\"v\":1}";
    assertThat(send("POST", "/v1/streams/clicks/events", null, event)).isEqualTo(401);
    assertThat(send("POST", "/v1/streams/clicks/events", "t-nope", event)).isEqualTo(401);
    assertThat(send("POST", "/v1/streams/orders/events", "t-clicks", event)).isEqualTo(403);
    assertThat(send("POST", "/v1/streams/clicks/events", "t-read", event)).isEqualTo(403);
    assertThat(send("POST", "/v1/streams/clicks/events", "t-admin", event)).isEqualTo(403);
    assertThat(node.buffer().highWaterMark()).as("nothing refused was stored").isZero();

    assertThat(send("POST", "/v1/streams/clicks/events", "t-clicks", event)).isEqualTo(200);
    assertThat(send("POST", "/v1/streams/clicks-eu/events", "t-clicks", event)).isEqualTo(200);
    assertThat(send("POST", "/v1/streams/orders/events", "t-router", event))
        .as("a router vouches for its producer")
        .isEqualTo(200);
    assertThat(node.buffer().highWaterMark()).isEqualTo(3);

    assertThat(send("GET", "/v1/status", "t-clicks", null)).isEqualTo(403);
    assertThat(send("GET", "/v1/status", "t-router", null))
        .as("a router samples its nodes for the console with its own token")
        .isEqualTo(200);
    assertThat(send("GET", "/v1/status", "t-read", null)).isEqualTo(200);
    assertThat(send("GET", "/metrics", null, null)).isEqualTo(401);
    assertThat(send("GET", "/metrics", "t-clicks", null)).isEqualTo(403);
    assertThat(send("GET", "/metrics", "t-read", null)).isEqualTo(200);
    assertThat(send("GET", "/metrics", "t-router", null)).isEqualTo(200);
    assertThat(send("POST", "/v1/flush", "t-read", null)).isEqualTo(403);
    assertThat(send("POST", "/v1/flush", "t-router", null)).isEqualTo(403);
    assertThat(send("POST", "/v1/flush", "t-admin", null))
        .as("admin passes; this node has no flusher")
        .isEqualTo(503);
    assertThat(send("GET", "/v1/partitions/0/committed", "t-clicks", null)).isNotIn(401, 403);
    assertThat(send("GET", "/v1/partitions/0/committed", null, null)).isEqualTo(401);
    assertThat(send("GET", "/health/ready", null, null)).isEqualTo(200);
  }
}
