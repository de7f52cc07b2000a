package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.table.FloeTableKeys;
import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ack = durable; the receipt says when the acknowledged sequences are queryable, and in which
 * snapshot.
 */
class ReceiptTest {
  @TempDir Path tmp;

  @Test
  void aLongPollAnswersOnceTheSequenceIsCommittedWithTheSnapshotThatCommittedIt() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Map<String, String> s = env.nodeSettings(3);
      s.put("flush.max-age-seconds", "1");
      try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
        Ingest ingest = new Ingest();
        HttpResponse<String> ack = ingest.send(node.port(), "r", "x", 10);
        long last = new JsonObject(ack.body()).getLong("last_sequence");

        CompletableFuture<HttpResponse<String>> receipt =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return ingest.get(
                        node.port(),
                        "/v1/partitions/3/committed?wait_for=" + last + "&timeout_seconds=30");
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
        JsonObject r = new JsonObject(receipt.get(40, TimeUnit.SECONDS).body());
        assertThat(r.getBoolean("reached")).isTrue();
        assertThat(r.getLong("committed_sequence")).isGreaterThanOrEqualTo(last);
        Table table = env.table();
        Snapshot committing = table.snapshot(r.getLong("snapshot_id"));
        assertThat(committing).isNotNull();
        assertThat(committing.summary())
            .containsEntry(
                FloeTableKeys.partitionCommittedSequence(3),
                Long.toString(r.getLong("committed_sequence")));

        long start = System.nanoTime();
        JsonObject notYet =
            new JsonObject(
                ingest
                    .get(
                        node.port(),
                        "/v1/partitions/3/committed?wait_for="
                            + (last + 1000)
                            + "&timeout_seconds=0.3")
                    .body());
        assertThat(notYet.getBoolean("reached")).isFalse();
        assertThat(System.nanoTime() - start).isGreaterThan(TimeUnit.MILLISECONDS.toNanos(250));
        assertThat(ingest.get(node.port(), "/v1/partitions/4/committed").statusCode())
            .isEqualTo(404);
      }
    }
  }
}
