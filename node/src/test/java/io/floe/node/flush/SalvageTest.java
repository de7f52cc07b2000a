package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.SalvageMain;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that acknowledged events after another process claimed its partition must not drop them at
 * its next start: it refuses to claim until they are salvaged, and nothing acknowledged is lost.
 */
class SalvageTest {
  @TempDir Path tmp;

  private static Map<String, String> settings(TableEnv env, Path dir) {
    Map<String, String> s = env.nodeSettings(9);
    s.put("buffer.dir", dir.toString());
    s.put(
        "flush.claim-check-seconds", "3600"); // A learns of B's claim only when it tries to commit
    return s;
  }

  @Test
  void eventsAcknowledgedUnderALostClaimAreSalvagedNotDropped() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Path dirA = tmp.resolve("a");
      Ingest ingest = new Ingest();
      Node a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      assertThat(ingest.send(a.port(), "s", "a1", 20).statusCode()).isEqualTo(200);
      assertThat(ingest.post(a.port(), "/v1/flush").statusCode()).isEqualTo(200);

      try (Node b = Node.start(NodeConfig.load(Settings.of(settings(env, tmp.resolve("b")))))) {
        assertThat(ingest.send(b.port(), "s", "b1", 10).statusCode()).isEqualTo(200);
        assertThat(ingest.post(b.port(), "/v1/flush").statusCode()).isEqualTo(200);
        // A does not know yet and acknowledges 15 more into its own buffer
        HttpResponse<String> late = ingest.send(a.port(), "s", "a2", 15);
        assertThat(late.statusCode()).isEqualTo(200);
        a.close();
      }

      a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      try {
        HttpResponse<String> ready = ingest.get(a.port(), "/health/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(new JsonObject(ready.body()).getString("reason")).isEqualTo("salvage_needed");
        assertThat(ingest.send(a.port(), "s", "refused", 1).statusCode()).isEqualTo(503);
      } finally {
        a.close();
      }

      Path out = tmp.resolve("salvaged.ndjson");
      SalvageMain.main(
          new String[] {
            "--buffer-dir", dirA.toString(), "--partition-id", "9", "--out", out.toString()
          });
      List<String> salvaged = Files.readAllLines(out);
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < 15; i++) {
        expected.add("{\"id\":\"a2-" + i + "\",\"pad\":\"" + "x".repeat(60) + "\"}");
      }
      assertThat(salvaged).containsExactlyElementsOf(expected);

      try (Node again = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))))) {
        assertThat(ingest.get(again.port(), "/health/ready").statusCode())
            .as("claims after the salvage")
            .isEqualTo(200);
        HttpResponse<String> resent =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + again.port() + "/v1/streams/s/events"))
                        .header("Content-Type", "application/x-ndjson")
                        .POST(HttpRequest.BodyPublishers.ofFile(out))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(resent.statusCode()).as(resent.body()).isEqualTo(200);
        assertThat(ingest.post(again.port(), "/v1/flush").statusCode()).isEqualTo(200);
      }
      Map<String, Integer> ids = new HashMap<>();
      for (TableEnv.Row row : env.rows()) {
        ids.merge(new JsonObject(row.payload()).getString("id"), 1, Integer::sum);
      }
      assertThat(ids).hasSize(45).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
      assertThat(ids).containsKeys("a1-0", "a1-19", "b1-0", "b1-9", "a2-0", "a2-14");
    }
  }
}
