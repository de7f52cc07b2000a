package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.process.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes with one partition id: the later claimant wins, the earlier is fenced, no
 * duplicate.
 */
class FencingTest {
  @TempDir Path tmp;

  private static HttpResponse<String> flush(int port) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/flush"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void anIdleNodeLearnsOfTheClaimWithinTheCheckIntervalAndStopsAcknowledging() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Ingest first = new Ingest();
      Path dirA = tmp.resolve("a");
      Path dirB = tmp.resolve("b");
      Map<String, String> envA = new HashMap<>(env.nodeEnv(8, dirA));
      envA.put("FLOE_FLUSH_CLAIM_CHECK_SECONDS", "0.5");
      try (NodeProcess a = NodeProcess.start(dirA, tmp.resolve("a.log"), envA);
          NodeProcess b = NodeProcess.start(dirB, tmp.resolve("b.log"), env.nodeEnv(8, dirB))) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        HttpResponse<String> ready = first.get(a.port, "/health/ready");
        while (ready.statusCode() == 200 && System.nanoTime() < deadline) {
          Thread.sleep(100);
          ready = first.get(a.port, "/health/ready");
        }
        assertThat(ready.statusCode()).as("A noticed without trying to commit").isEqualTo(503);
        assertThat(new JsonObject(ready.body()).getString("reason")).isEqualTo("fenced");
        assertThat(first.send(a.port, "f", "late", 5).statusCode()).isEqualTo(503);
        assertThat(first.acknowledged)
            .as("nothing acknowledged that could not be committed")
            .isEmpty();
        assertThat(first.get(b.port, "/health/ready").statusCode()).isEqualTo(200);
        b.terminate();
        a.kill();
      }
    }
  }

  @Test
  void theLaterClaimantWinsAndTheTableNeverHoldsADuplicate() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Ingest first = new Ingest();
      Ingest second = new Ingest();
      Path dirA = tmp.resolve("a");
      Path dirB = tmp.resolve("b");
      Map<String, String> envA = new HashMap<>(env.nodeEnv(7, dirA));
      envA.put(
          "FLOE_FLUSH_CLAIM_CHECK_SECONDS",
          "3600"); // here A learns of the claim at its next commit
      try (NodeProcess a = NodeProcess.start(dirA, tmp.resolve("a.log"), envA)) {
        assertThat(first.send(a.port, "f", "a1", 30).statusCode()).isEqualTo(200);
        assertThat(flush(a.port).statusCode()).isEqualTo(200);
        Map<Long, String> committedByA = new HashMap<>(first.acknowledged);

        try (NodeProcess b = NodeProcess.start(dirB, tmp.resolve("b.log"), env.nodeEnv(7, dirB))) {
          // A does not know yet: it still acknowledges into its own buffer...
          assertThat(first.send(a.port, "f", "a2", 20).statusCode()).isEqualTo(200);
          // ...but can no longer commit, and stops taking writes
          HttpResponse<String> refused = flush(a.port);
          assertThat(refused.statusCode()).isEqualTo(503);
          assertThat(refused.body()).contains("claimed by another process");
          HttpResponse<String> write = first.send(a.port, "f", "a3", 5);
          assertThat(write.statusCode()).isEqualTo(503);
          assertThat(new JsonObject(write.body()).getString("detail"))
              .contains("another process claimed");
          assertThat(new JsonObject(first.get(a.port, "/health/ready").body()).getString("reason"))
              .isEqualTo("fenced");

          HttpResponse<String> r = second.send(b.port, "f", "b1", 25);
          assertThat(new JsonObject(r.body()).getLong("first_sequence")).isEqualTo(31);
          assertThat(flush(b.port).statusCode()).isEqualTo(200);
          b.terminate();
        }
        a.kill();
        Map<Long, String> expected = new HashMap<>(committedByA);
        expected.putAll(second.acknowledged);
        Ingest.assertExactly(env.rows(), 7, expected);
      }
    }
  }
}
