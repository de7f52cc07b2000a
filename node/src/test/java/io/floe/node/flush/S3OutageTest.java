package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * S3 down: the node keeps acknowledging until its buffer budget is used, then 503; it catches up
 * when S3 returns.
 */
class S3OutageTest {
  @TempDir Path tmp;

  @Test
  void backpressureOnlyAfterTheBudgetAndCatchUpAfterwards() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Map<String, String> s = env.nodeSettings(1);
      s.put("buffer.max-bytes", "1MiB");
      s.put("flush.max-age-seconds", "0.2");
      s.put("flush.retry-max-seconds", "1");
      try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
        Ingest ingest = new Ingest();
        assertThat(ingest.send(node.port(), "s", "up", 20).statusCode()).isEqualTo(200);
        awaitCommitted(node, 20);

        env.s3.stop();
        HttpResponse<String> refused = null;
        for (int i = 0; i < 400 && refused == null; i++) {
          HttpResponse<String> r = ingest.send(node.port(), "s", "down-" + i, 100);
          if (r.statusCode() == 503) {
            refused = r;
          } else {
            assertThat(r.statusCode()).isEqualTo(200);
          }
        }
        assertThat(refused).as("503 once the buffer budget is used").isNotNull();
        assertThat(refused.headers().firstValue("Retry-After")).isPresent();
        assertThat(node.buffer().bufferedBytes())
            .as("refused only after the budget")
            .isGreaterThanOrEqualTo(1L << 20);
        assertThat(
                new JsonObject(ingest.get(node.port(), "/health/ready").body()).getString("reason"))
            .isEqualTo("buffer_full");
        JsonObject status = new JsonObject(ingest.get(node.port(), "/v1/status").body());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (status.getJsonObject("flush").getString("last_error") == null
            && System.nanoTime() < deadline) {
          Thread.sleep(100);
          status = new JsonObject(ingest.get(node.port(), "/v1/status").body());
        }
        assertThat(status.getJsonObject("flush").getString("last_error")).isNotBlank();
        assertThat(status.getJsonObject("flush").getInteger("consecutive_failures")).isPositive();

        env.s3.start();
        awaitCommitted(node, node.buffer().highWaterMark());
        assertThat(ingest.get(node.port(), "/health/ready").statusCode()).isEqualTo(200);
        Ingest.assertExactly(env.rows(), 1, ingest.acknowledged);
        assertThat(ingest.get(node.port(), "/metrics").body())
            .containsPattern("floe_flush_failures_total [1-9]");
      }
    }
  }

  static void awaitCommitted(Node node, long sequence) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (node.buffer().committedSequence() < sequence) {
      assertThat(System.nanoTime()).as("committed through %d", sequence).isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
