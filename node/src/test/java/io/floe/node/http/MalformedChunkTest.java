package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Broken chunked framing gets a 400 with the JSON error before the connection closes, and stores
 * nothing.
 */
class MalformedChunkTest {
  @TempDir Path dir;
  private Node node;

  @BeforeEach
  void start() throws Exception {
    node = BufferOnlyNode.start(dir.resolve("rocks"), Map.of("http.event-loops", "1"));
  }

  @AfterEach
  void stop() throws Exception {
    node.close();
  }

  /** Everything the node answers until it closes the connection. */
  private String send(String chunks) throws Exception {
    try (Socket s = new Socket("127.0.0.1", node.port())) {
      s.setSoTimeout(10_000);
      s.getOutputStream()
          .write(
              ("POST /v1/streams/s/events HTTP/1.1\r\nHost: n\r\nContent-Type: application/x-ndjson\r\n"
                      + "Transfer-Encoding: chunked\r\n\r\n"
                      + chunks)
                  .getBytes(StandardCharsets.US_ASCII));
      s.getOutputStream().flush();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      InputStream in = s.getInputStream();
      byte[] buf = new byte[4096];
      try {
        for (int n; (n = in.read(buf)) >= 0; ) {
          out.write(buf, 0, n);
        }
      } catch (SocketException reset) {
        // closed by the node: what arrived before counts
      }
      return out.toString(StandardCharsets.US_ASCII);
    }
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "zz\r\n{\"a\":1}\n\r\n0\r\n\r\n", // not hex
        "-8\r\n{\"a\":1}\n\r\n0\r\n\r\n", // negative
        "fffffffffffffffffffff\r\n{\"a\":1}\n\r\n0\r\n\r\n", // overflow
        "8\r\n{\"a\":1}\nXX0\r\n\r\n"
      }) // data longer than its size
  void brokenChunkSizesAreAnswered400(String chunks) throws Exception {
    String answer = send("8\r\n{\"b\":2}\n\r\n" + chunks);
    assertThat(answer)
        .startsWith("HTTP/1.1 400")
        .contains("\"error\":\"malformed_encoding\"")
        .contains("chunk");
    HttpResponse<String> status =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/v1/status"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(status.body()).as("nothing stored").contains("\"high_water_mark\":0");
  }
}
