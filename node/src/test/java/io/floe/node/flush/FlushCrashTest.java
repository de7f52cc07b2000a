package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.net.FreePort;
import io.floe.node.process.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The node as its own process, SIGKILLed at each point of a flush; after a restart nothing is lost
 * or doubled.
 */
class FlushCrashTest {
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"mid-upload", "after-upload", "after-commit"})
  void crashAtAnyPointOfAFlushLosesNothingAndDuplicatesNothing(String point) throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Path data = tmp.resolve("node");
      Ingest ingest = new Ingest();
      List<String> faulty = List.of("-D" + FaultPoint.PROPERTY + "=" + point);
      try (NodeProcess node =
          NodeProcess.start(data, tmp.resolve("node-1.log"), env.nodeEnv(4, data), faulty)) {
        for (int b = 0; b < 6; b++) {
          assertThat(ingest.send(node.port, "crash", "before-" + b, 40).statusCode())
              .isEqualTo(200);
        }
        HttpClient.newHttpClient()
            .sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port + "/v1/flush"))
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        node.awaitLog("fault point reached: " + point);
        node.kill();
      }
      try (NodeProcess node =
          NodeProcess.start(data, tmp.resolve("node-2.log"), env.nodeEnv(4, data))) {
        HttpResponse<String> r = ingest.send(node.port, "crash", "after", 10);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(r.body()).getLong("first_sequence")).isEqualTo(241);
        HttpResponse<String> flushed =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + node.port + "/v1/flush"))
                        .POST(HttpRequest.BodyPublishers.noBody())
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(flushed.statusCode()).as(flushed.body()).isEqualTo(200);
        assertThat(new JsonObject(flushed.body()).getLong("committed_sequence")).isEqualTo(250);
        node.terminate();
      }
      Ingest.assertExactly(env.rows(), 4, ingest.acknowledged);
    }
  }

  /**
   * A node with unflushed events restarts, claims its partition and is killed before it records the
   * claim in its buffer. At the next start the claim above the buffer's is its own: no salvage, and
   * every acknowledged event lands once.
   */
  @Test
  void aKillBetweenTheClaimAndItsRecordDemandsNoSalvage() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Path data = tmp.resolve("node");
      Ingest ingest = new Ingest();
      try (NodeProcess node =
          NodeProcess.start(data, tmp.resolve("node-1.log"), env.nodeEnv(4, data))) {
        assertThat(ingest.send(node.port, "claim", "flushed", 40).statusCode()).isEqualTo(200);
        assertThat(ingest.flushUntilCommitted(node.port).statusCode()).isEqualTo(200);
        assertThat(ingest.send(node.port, "claim", "buffered", 40).statusCode()).isEqualTo(200);
        node.kill();
      }
      List<String> faulty = List.of("-D" + FaultPoint.PROPERTY + "=after-claim");
      try (NodeProcess node =
          NodeProcess.launch(
              withPort(env.nodeEnv(4, data), FreePort.pick()), faulty, tmp.resolve("node-2.log"))) {
        node.awaitLog("fault point reached: after-claim");
        node.kill();
      }
      try (NodeProcess node =
          NodeProcess.launch(withPort(env.nodeEnv(4, data), FreePort.pick()), tmp.resolve("n3"))) {
        HttpResponse<String> ready = awaitReadyOrStuck(ingest, node.port);
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(ingest.send(node.port, "claim", "after", 10).statusCode()).isEqualTo(200);
        assertThat(ingest.flushUntilCommitted(node.port).statusCode()).isEqualTo(200);
        node.terminate();
      }
      Ingest.assertExactly(env.rows(), 4, ingest.acknowledged);
    }
  }

  /** Polls /health/ready until 200, "salvage_needed", or a minute. */
  private static HttpResponse<String> awaitReadyOrStuck(Ingest ingest, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        HttpResponse<String> ready = ingest.get(port, "/health/ready");
        if (ready.statusCode() == 200
            || ready.body().contains("salvage_needed")
            || System.nanoTime() > deadline) {
          return ready;
        }
      } catch (IOException notListeningYet) {
        if (System.nanoTime() > deadline) {
          throw notListeningYet;
        }
      }
      Thread.sleep(200);
    }
  }

  private static Map<String, String> withPort(Map<String, String> env, int port) {
    Map<String, String> e = new HashMap<>(env);
    e.put("FLOE_HTTP_PORT", Integer.toString(port));
    e.put("FLOE_HTTP_HOST", "127.0.0.1");
    return e;
  }
}
