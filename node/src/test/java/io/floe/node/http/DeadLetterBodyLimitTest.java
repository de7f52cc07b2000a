package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replay's filters are at most 1 MiB on a node, as through the router: a longer body, declared or
 * chunked, is refused with a JSON 413 before it is read whole or anything is replayed; a body under
 * the limit goes on to the replay (here: a node that has not joined the table, 503).
 */
class DeadLetterBodyLimitTest {
  private static final String REPLAY = "/floe/v1/dead-letter/replay";
  @TempDir Path dir;
  private Node node;

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  @Test
  void aReplayBodyOverOneMebibyteIsRefusedWith413() throws Exception {
    node = BufferOnlyNode.start(dir.resolve("rocks"), Map.of());
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    JsonArray ids = new JsonArray();
    for (int i = 0; i < 90_000; i++) {
      ids.add("0-" + (1_000_000 + i)); // 12 bytes each in the body
    }
    String big = new JsonObject().put("ids", ids).encode();
    assertThat(big.length()).isGreaterThan(DeadLetterHandler.MAX_BODY_BYTES);
    HttpResponse<String> declared =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + REPLAY))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(new JsonObject().put("ids", ids).encode()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(declared.statusCode()).as(declared.body()).isEqualTo(413);
    JsonObject refusal = new JsonObject(declared.body());
    assertThat(refusal.getString("error")).isEqualTo("too_large");
    assertThat(refusal.getString("detail")).contains("1048576").contains("nothing was replayed");

    // chunked, no length: refused once the bytes pass the limit (exactly 1 MiB, then 1 byte)
    try (Socket s = new Socket("127.0.0.1", node.port())) {
      s.setSoTimeout(10_000);
      OutputStream out = s.getOutputStream();
      out.write(
          ("POST "
                  + REPLAY
                  + " HTTP/1.1\r\nHost: n\r\nContent-Type: application/json\r\n"
                  + "Transfer-Encoding: chunked\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      byte[] chunk =
          ("10000\r\n" + " ".repeat(1 << 16) + "\r\n").getBytes(StandardCharsets.US_ASCII);
      for (int i = 0; i < 16; i++) {
        out.write(chunk);
      }
      out.write("1\r\n \r\n".getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("HTTP/1.1 413");
      JsonObject body = new JsonObject(answer.substring(answer.indexOf("\r\n\r\n") + 4));
      assertThat(body.getString("error")).isEqualTo("too_large");
      assertThat(body.getString("detail")).contains("1048576");
    }

    // under the limit: read whole and handed to the replay, which this node cannot run yet
    JsonArray some = new JsonArray();
    for (int i = 0; i < 10_000; i++) {
      some.add("0-" + i);
    }
    HttpResponse<String> under =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + REPLAY))
                .POST(
                    HttpRequest.BodyPublishers.ofString(new JsonObject().put("ids", some).encode()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(under.statusCode()).as(under.body()).isEqualTo(503);
    assertThat(new JsonObject(under.body()).getString("detail")).contains("not joined");
  }
}
