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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two processes with one partition id: the later claimant wins, the earlier is fenced, no duplicate. */
class FencingTest {
  @TempDir Path tmp;

  private static HttpResponse<String> flush(int port) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/flush"))
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void theLaterClaimantWinsAndTheTableNeverHoldsADuplicate() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Ingest first = new Ingest();
      Ingest second = new Ingest();
      Path dirA = tmp.resolve("a");
      Path dirB = tmp.resolve("b");
      try (NodeProcess a = NodeProcess.start(dirA, tmp.resolve("a.log"), env.nodeEnv(7, dirA))) {
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
          assertThat(new JsonObject(write.body()).getString("detail")).contains("another process claimed");
          assertThat(new JsonObject(first.get(a.port, "/health/ready").body()).getString("reason")).isEqualTo("fenced");

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
