package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three nodes committing to the one table at once, for a sustained period: no commit lost. */
class ConcurrentNodesTest {
  @TempDir Path tmp;

  @Test
  void threeNodesCommitConcurrentlyWithoutLosingACommit() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      List<Node> nodes = new ArrayList<>();
      List<Ingest> ingests = new ArrayList<>();
      try {
        for (int p = 0; p < 3; p++) {
          Map<String, String> s = env.nodeSettings(p);
          s.put("flush.max-age-seconds", "0.2");
          nodes.add(Node.start(NodeConfig.load(Settings.of(s))));
          ingests.add(new Ingest());
        }
        long end = System.nanoTime() + 8_000_000_000L;
        List<Thread> writers = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
          int partition = p;
          Thread t =
              new Thread(
                  () -> {
                    int i = 0;
                    while (System.nanoTime() < end) {
                      try {
                        ingests
                            .get(partition)
                            .send(
                                nodes.get(partition).port(),
                                "c" + partition,
                                "p" + partition + "-" + i++,
                                50);
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    }
                  });
          writers.add(t);
          t.start();
        }
        for (Thread t : writers) {
          t.join();
        }
        long retries = 0;
        for (Node node : nodes) {
          node.flusher().flushNow().get();
          String metrics = ingests.get(0).get(node.port(), "/metrics").body();
          Matcher m = Pattern.compile("(?m)^floe_commit_retries_total (\\S+)$").matcher(metrics);
          assertThat(m.find()).as("floe_commit_retries_total is exported").isTrue();
          retries += (long) Double.parseDouble(m.group(1));
          assertThat(metrics)
              .containsPattern("floe_flush_files_total [1-9]")
              .containsPattern("floe_flush_file_size_bytes_count [1-9]")
              .contains("floe_flush_file_size_bytes_bucket{le=\"1048576.0\"}");
        }
        System.out.println("commit retries across 3 nodes: " + retries);
        var rows = env.rows();
        for (int p = 0; p < 3; p++) {
          assertThat(ingests.get(p).acknowledged).hasSizeGreaterThan(500);
          Ingest.assertExactly(rows, p, ingests.get(p).acknowledged);
        }
      } finally {
        for (Node node : nodes) {
          node.close();
        }
      }
    }
  }
}
