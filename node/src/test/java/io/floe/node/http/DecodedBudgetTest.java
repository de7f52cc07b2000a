package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The in-flight budget counts what a request becomes, not what it weighs on the wire: a small gzip
 * body that inflates past the budget is refused with 503 before it is held in memory.
 */
class DecodedBudgetTest {
  @TempDir Path dir;
  private Node node;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @AfterEach
  void stop() throws Exception {
    if (node != null) {
      node.close();
    }
  }

  private static byte[] gzipOfLines(long decodedBytes) throws Exception {
    byte[] line = "{\"a\":1}\n".getBytes(StandardCharsets.US_ASCII);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      for (long n = 0; n < decodedBytes; n += line.length) {
        gz.write(line);
      }
    }
    return out.toByteArray();
  }

  private HttpResponse<String> postGzip(byte[] body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/v1/streams/s/events"))
            .header("Content-Type", "application/x-ndjson")
            .header("Content-Encoding", "gzip")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aBodyThatInflatesPastTheBudgetIsRefusedAndTheBudgetIsGivenBack() throws Exception {
    node =
        BufferOnlyNode.start(
            dir.resolve("rocks"),
            Map.of(
                "ingest.max-body-bytes",
                "1MiB",
                "ingest.inflight-max-bytes",
                "32MiB",
                "ingest.max-decoded-bytes",
                "64MiB"));
    byte[] bomb = gzipOfLines(40L << 20);
    assertThat(bomb.length).as("small on the wire").isLessThan(1 << 20);
    HttpResponse<String> refused = postGzip(bomb);
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
    assertThat(new JsonObject(refused.body()).getString("detail")).contains("in-flight budget");
    assertThat(refused.headers().firstValue("Retry-After")).isPresent();
    assertThat(node.buffer().bufferedEvents()).isZero();

    HttpResponse<String> fits = postGzip(gzipOfLines(4L << 20));
    assertThat(fits.statusCode()).as(fits.body()).isEqualTo(200);
    JsonObject status =
        new JsonObject(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + node.port() + "/v1/status"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body());
    assertThat(status.getLong("inflight_bytes")).as("every reservation given back").isZero();
  }

  /**
   * Tiny events take more in the batch than in the body ({@code {}} takes 12 bytes for its 3): the
   * batch's buffer is reserved as it grows, so a request of them that would hold more than the
   * budget is refused, where only the body and a quarter more used to be counted.
   */
  @Test
  void tinyEventsAreReservedAsTheirBatchGrows() throws Exception {
    node =
        BufferOnlyNode.start(
            dir.resolve("rocks"),
            Map.of("ingest.max-body-bytes", "1MiB", "ingest.inflight-max-bytes", "3MiB"));
    // a body of 1 MB: reserved as received, and 1.25 MB for the batch up front; the batch grows to
    // 4 MB of events in a buffer of 5 MB
    HttpResponse<String> refused = postNdjson("{}\n".repeat(333_333));
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
    assertThat(new JsonObject(refused.body()).getString("detail")).contains("in-flight budget");
    assertThat(node.buffer().bufferedEvents()).isZero();

    // a tenth of it fits: body, batch and its growths
    HttpResponse<String> fits = postNdjson("{}\n".repeat(33_333));
    assertThat(fits.statusCode()).as(fits.body()).isEqualTo(200);
    assertThat(new JsonObject(fits.body()).getLong("accepted")).isEqualTo(33_333);
    assertThat(inflightBytes()).as("every reservation given back").isZero();
  }

  private HttpResponse<String> postNdjson(String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/v1/streams/s/events"))
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private long inflightBytes() throws Exception {
    return new JsonObject(
            http.send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + node.port() + "/v1/status"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString())
                .body())
        .getLong("inflight_bytes");
  }
}
