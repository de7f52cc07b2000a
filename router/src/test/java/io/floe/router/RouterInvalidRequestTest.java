package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.Settings;
import io.vertx.core.json.JsonObject;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Requests the HTTP decoder gives up on before any route sees them (a header block over 8 KiB, a
 * request line over 4 KiB) are answered with Floe's JSON error, then the connection is closed.
 */
class RouterInvalidRequestTest {
  private Router router;

  @AfterEach
  void stop() throws Exception {
    if (router != null) {
      router.close();
    }
  }

  /** Sends {@code head} and returns all that comes back until the router closes the connection. */
  private String exchange(String head) throws Exception {
    try (Socket s = new Socket("127.0.0.1", router.port())) {
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
    router =
        Router.start(
            RouterConfig.load(
                Settings.of(
                    Map.of(
                        "router.host", "127.0.0.1",
                        "router.port", "0",
                        "router.nodes", "127.0.0.1:1",
                        "auth.disabled", "true"))));
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
