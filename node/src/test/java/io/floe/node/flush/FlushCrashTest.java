package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.process.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
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
}
