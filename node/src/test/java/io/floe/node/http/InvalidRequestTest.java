package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import io.vertx.core.json.JsonObject;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests the HTTP decoder gives up on before any route sees them (a header block over 8 KiB, a
 * request line over 4 KiB) are answered with Floe's JSON error, then the connection is closed.
 */
class InvalidRequestTest {
  @TempDir Path dir;
  private Node node;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  /** Sends {@code head} and returns all that comes back until the node closes the connection. */
  private String exchange(String head) throws Exception {
    try (Socket s = new Socket("127.0.0.1", node.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static JsonObject body(String answer) {
    return new JsonObject(answer.substring(answer.indexOf("\r\n\r\n") + 4));
  }

  @Test
  void oversizedHeadersAndUrisGetJsonAnswers() throws Exception {
    node = BufferOnlyNode.start(dir.resolve("rocks"), Map.of());
    String headers =
        exchange(
            "POST /v1/streams/s/events HTTP/1.1\r\nHost: n\r\nX-Pad: "
                + "x".repeat(9000)
                + "\r\nContent-Length: 0\r\n\r\n");
    assertThat(headers)
        .startsWith("HTTP/1.1 431")
        .containsIgnoringCase("content-type: application/json");
    assertThat(body(headers).getString("error")).isEqualTo("request_header_fields_too_large");
    assertThat(body(headers).getString("detail")).contains("8192");

    String uri =
        exchange("GET /health/live?pad=" + "x".repeat(5000) + " HTTP/1.1\r\nHost: n\r\n\r\n");
    assertThat(uri)
        .as("the request line was not read, so its version is unknown: the answer is HTTP/1.0")
        .startsWith("HTTP/1.0 414")
        .containsIgnoringCase("content-type: application/json");
    assertThat(body(uri).getString("error")).isEqualTo("uri_too_long");
    assertThat(body(uri).getString("detail")).contains("4096");
  }
}
