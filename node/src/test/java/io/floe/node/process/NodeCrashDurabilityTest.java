package io.floe.node.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.buffer.BufferConfig;
import io.floe.node.buffer.RocksBuffer;
import io.vertx.core.json.JsonObject;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node as its own process: acknowledged events survive SIGKILL exactly once, sequences go on
 * after a restart, and SIGTERM finishes in-flight requests before closing RocksDB.
 */
class NodeCrashDurabilityTest {
  private static final int PARTITION = 5;
  @TempDir Path tmp;

  record Ack(long first, long last, List<String> ids) {}

  private static String body(List<String> ids) {
    StringBuilder sb = new StringBuilder();
    for (String id : ids) {
      sb.append("{\"id\":\"")
          .append(id)
          .append("\",\"pad\":\"")
          .append("p".repeat(80))
          .append("\"}\n");
    }
    return sb.toString();
  }

  /**
   * Waits until the node holds a request in flight (its reservation shows in the in-flight gauge),
   * however slowly this machine runs.
   */
  private static void awaitInFlight(int port) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    HttpRequest metrics =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics")).build();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      String text = client.send(metrics, HttpResponse.BodyHandlers.ofString()).body();
      if (text.lines()
          .filter(l -> l.startsWith("floe_node_inflight_bytes "))
          .anyMatch(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1)) > 0)) {
        return;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("the node never showed the request in flight");
  }

  private static HttpResponse<String> send(HttpClient client, int port, String body)
      throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/streams/crash/events"))
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void acknowledgedEventsSurviveSigkillExactlyOnce() throws Exception {
    Path data = tmp.resolve("rocks");
    ConcurrentLinkedQueue<Ack> acks = new ConcurrentLinkedQueue<>();
    AtomicInteger acked = new AtomicInteger();
    CountDownLatch enough = new CountDownLatch(1);
    try (NodeProcess node = NodeProcess.start(data, tmp.resolve("node-1.log"), Map.of())) {
      List<Thread> writers = new ArrayList<>();
      for (int t = 0; t < 6; t++) {
        int writer = t;
        Thread th =
            new Thread(
                () -> {
                  HttpClient client = HttpClient.newHttpClient();
                  for (int i = 0; i < 10_000; i++) {
                    List<String> ids = new ArrayList<>();
                    for (int j = 0; j < 50; j++) {
                      ids.add(writer + "-" + i + "-" + j);
                    }
                    try {
                      HttpResponse<String> r = send(client, node.port, body(ids));
                      if (r.statusCode() != 200) {
                        continue;
                      }
                      JsonObject json = new JsonObject(r.body());
                      acks.add(
                          new Ack(
                              json.getLong("first_sequence"), json.getLong("last_sequence"), ids));
                      if (acked.incrementAndGet() >= 300) {
                        enough.countDown();
                      }
                    } catch (Exception connectionLost) {
                      return;
                    }
                  }
                });
        writers.add(th);
        th.start();
      }
      enough.await();
      node.kill(); // while the writers are still sending
      for (Thread th : writers) {
        th.join();
      }
    }
    assertThat(acks.size()).isGreaterThanOrEqualTo(300);

    long hwmAfterCrash;
    try (RocksBuffer buffer = RocksBuffer.open(BufferConfig.defaults(data), PARTITION)) {
      Map<Long, String> bySequence = new HashMap<>();
      Map<String, Integer> copies = new HashMap<>();
      buffer.forEachBatch(
          0,
          (first, batch) -> {
            var r = batch.reader();
            while (r.next()) {
              String id = new JsonObject(r.payload()).getString("id");
              bySequence.put(first + r.index(), id);
              copies.merge(id, 1, Integer::sum);
            }
            return true;
          });
      for (Ack ack : acks) {
        assertThat(ack.last() - ack.first() + 1).isEqualTo(ack.ids().size());
        for (int i = 0; i < ack.ids().size(); i++) {
          assertThat(bySequence.get(ack.first() + i))
              .as("sequence %d", ack.first() + i)
              .isEqualTo(ack.ids().get(i));
        }
      }
      assertThat(copies.values()).as("no event stored twice").allMatch(n -> n == 1);
      hwmAfterCrash = buffer.highWaterMark();
      long maxAcked = acks.stream().mapToLong(Ack::last).max().orElseThrow();
      assertThat(hwmAfterCrash).isGreaterThanOrEqualTo(maxAcked);
    }

    try (NodeProcess node = NodeProcess.start(data, tmp.resolve("node-2.log"), Map.of())) {
      HttpResponse<String> r =
          send(HttpClient.newHttpClient(), node.port, body(List.of("after-restart")));
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(r.body()).getLong("first_sequence")).isEqualTo(hwmAfterCrash + 1);
      node.kill();
    }
  }

  @Test
  void sigtermFinishesInFlightRequestsThenCloses() throws Exception {
    Path data = tmp.resolve("rocks");
    String event = "{\"id\":\"slow\"}\n";
    int exit;
    String response;
    try (NodeProcess node = NodeProcess.start(data, tmp.resolve("node.log"), Map.of());
        Socket slow = new Socket("127.0.0.1", node.port)) {
      OutputStream out = slow.getOutputStream();
      out.write(
          ("POST /v1/streams/crash/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                  + "Content-Length: "
                  + event.length()
                  + "\r\n\r\n"
                  + event.substring(0, 5))
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      awaitInFlight(node.port);
      node.process.destroy(); // SIGTERM while the request is in flight
      Thread.sleep(500);
      assertThat(node.process.isAlive()).as("waits for the in-flight request").isTrue();
      out.write(event.substring(5).getBytes(StandardCharsets.US_ASCII));
      out.flush();
      slow.setSoTimeout(10_000);
      response = new String(slow.getInputStream().readNBytes(20), StandardCharsets.US_ASCII);
      exit = node.terminate();
    }
    assertThat(response).startsWith("HTTP/1.1 200");
    assertThat(exit).isEqualTo(143);
    assertThat(Files.readString(tmp.resolve("node.log"))).contains("node stopped");
    try (RocksBuffer buffer = RocksBuffer.open(BufferConfig.defaults(data), PARTITION)) {
      assertThat(buffer.highWaterMark()).isEqualTo(1);
    }
  }

  @Test
  void wrongConfigurationStopsStartWithOneLineNamingTheSetting() throws Exception {
    Path log = tmp.resolve("bad.log");
    NodeProcess p =
        NodeProcess.launch(
            Map.of("FLOE_HTTP_PORT", "80800", "FLOE_BUFFER_DIR", tmp.toString()), log);
    assertThat(p.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.process.exitValue()).isEqualTo(2);
    List<String> lines = Files.readAllLines(log);
    assertThat(lines).hasSize(1);
    assertThat(lines.get(0)).contains("FLOE_HTTP_PORT").contains("80800");
  }
}
