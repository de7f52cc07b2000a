package io.floe.node.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.Node;
import io.floe.node.testing.BufferOnlyNode;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Slow and idle clients cannot hold a node's in-flight budget or its connections for long. */
class SlowClientTest {
  @TempDir Path dir;
  private Node node;
  private final List<Socket> sockets = new ArrayList<>();
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private Node start(Map<String, String> overrides) throws Exception {
    Map<String, String> s = new HashMap<>(Map.of("http.event-loops", "1"));
    s.putAll(overrides);
    node = BufferOnlyNode.start(dir.resolve("rocks"), s);
    return node;
  }

  @AfterEach
  void stop() throws Exception {
    for (Socket s : sockets) {
      s.close();
    }
    if (node != null) {
      node.close();
    }
  }

  private HttpResponse<String> post(String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + node.port() + "/v1/streams/s/events"))
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A chunked request (so the node reserves the largest body) that sends five bytes and stalls. */
  private Socket stalledRequest() throws Exception {
    Socket s = new Socket("127.0.0.1", node.port());
    sockets.add(s);
    s.getOutputStream()
        .write(
            ("POST /v1/streams/s/events HTTP/1.1\r\nHost: n\r\nContent-Type: application/x-ndjson\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n")
                .getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().flush();
    return s;
  }

  private static String statusLine(Socket s) throws Exception {
    s.setSoTimeout(10_000);
    byte[] head = new byte[12];
    int n = s.getInputStream().readNBytes(head, 0, head.length);
    return new String(head, 0, n, StandardCharsets.US_ASCII);
  }

  @Test
  void stalledBodiesAreCutOffAndTheirBudgetFreed() throws Exception {
    start(
        Map.of(
            "ingest.max-body-bytes",
            "1MiB",
            "ingest.inflight-max-bytes",
            "2MiB",
            "ingest.body-timeout-seconds",
            "1"));
    Socket a = stalledRequest();
    Socket b = stalledRequest();
    Thread.sleep(200);
    HttpResponse<String> refused = post("{\"n\":1}\n");
    assertThat(refused.statusCode())
        .as("two stalled requests hold the whole budget")
        .isEqualTo(503);
    assertThat(refused.body()).contains("in-flight budget");

    assertThat(statusLine(a)).isEqualTo("HTTP/1.1 408");
    assertThat(statusLine(b)).isEqualTo("HTTP/1.1 408");
    HttpResponse<String> ok = post("{\"n\":2}\n");
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(node.buffer().bufferedEvents())
        .as("nothing of the stalled requests was stored")
        .isEqualTo(1);
  }

  @Test
  void aBodyTricklingBelowTheMinimumRateIsAnswered408AndItsConnectionClosed() throws Exception {
    start(
        Map.of(
            "ingest.min-body-bytes-per-second",
            "100",
            "ingest.min-body-rate-window-seconds",
            "1",
            "ingest.body-timeout-seconds",
            "30"));
    Socket s = new Socket("127.0.0.1", node.port());
    sockets.add(s);
    OutputStream out = s.getOutputStream();
    out.write(
        ("POST /v1/streams/s/events HTTP/1.1\r\nHost: n\r\nContent-Type: application/x-ndjson\r\n"
                + "Content-Length: 1000\r\n\r\n{")
            .getBytes(StandardCharsets.US_ASCII));
    out.flush();
    long start = System.nanoTime();
    Thread trickle =
        new Thread(
            () -> {
              try {
                for (int i = 0; i < 100; i++) {
                  Thread.sleep(200); // 5 bytes/s
                  out.write(' ');
                  out.flush();
                }
              } catch (Exception closed) {
                // the node hung up: what the test waits for
              }
            });
    trickle.start();
    s.setSoTimeout(10_000);
    String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(answer).startsWith("HTTP/1.1 408").contains("\"error\":\"request_timeout\"");
    assertThat(answer).contains("ingest.min-body-bytes-per-second");
    assertThat(System.nanoTime() - start)
        .as("cut off after the first window, long before ingest.body-timeout-seconds")
        .isLessThan(TimeUnit.SECONDS.toNanos(4));
    trickle.interrupt();
    assertThat(node.buffer().bufferedEvents()).isZero();
    assertThat(post("{\"n\":1}\n").statusCode()).isEqualTo(200);
  }

  @Test
  void connectionsBeyondTheCapAreClosedAtOnce() throws Exception {
    start(Map.of("http.max-connections", "2"));
    byte[] get = "GET /health/live HTTP/1.1\r\nHost: n\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < 2; i++) {
      Socket s = new Socket("127.0.0.1", node.port());
      sockets.add(s);
      s.getOutputStream().write(get);
      assertThat(statusLine(s)).isEqualTo("HTTP/1.1 200"); // kept alive: it counts
    }
    Socket third = new Socket("127.0.0.1", node.port());
    sockets.add(third);
    third.getOutputStream().write(get);
    third.setSoTimeout(5_000);
    InputStream in = third.getInputStream();
    assertThat(in.read()).as("closed without an answer").isEqualTo(-1);
    sockets.get(0).close();
    Thread.sleep(200);
    HttpResponse<String> metrics =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).containsPattern("floe_node_connections_refused_total [1-9]");
  }

  @Test
  void idleConnectionsAreClosedAfterTheIdleTimeout() throws Exception {
    start(Map.of("http.idle-timeout-seconds", "1"));
    Socket idle = new Socket("127.0.0.1", node.port());
    sockets.add(idle);
    idle.setSoTimeout(10_000);
    long start = System.nanoTime();
    assertThat(idle.getInputStream().read()).isEqualTo(-1);
    assertThat(System.nanoTime() - start).isLessThan(TimeUnit.SECONDS.toNanos(5));
  }
}
