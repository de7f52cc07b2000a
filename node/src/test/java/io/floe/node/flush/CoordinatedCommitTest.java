package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.CoordinatorClaim;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three in-process nodes with {@code commit.mode=coordinated} against the real catalog service and
 * S3 server: one of them wins the committer role through the table, the others hand their written
 * ranges to it over HTTP, and every acknowledged event is in the table exactly once; when the
 * committer stops, it steps down and another node takes the role over.
 */
class CoordinatedCommitTest {
  @TempDir Path tmp;

  private static Map<String, String> coordinated(TableEnv env, int partition) {
    Map<String, String> s = env.nodeSettings(partition);
    s.put("commit.mode", "coordinated");
    s.put("commit.interval-seconds", "0.3");
    s.put("commit.handover-timeout-seconds", "10");
    s.put("commit.coordinator-timeout-seconds", "2");
    s.put("commit.takeover-spread-seconds", "0.5");
    s.put("flush.max-age-seconds", "0.2");
    return s;
  }

  /** Three coordinated nodes, partitions 0..2, each with its producer. */
  private static void startThree(TableEnv env, List<Node> nodes, List<Ingest> ingests)
      throws Exception {
    for (int p = 0; p < 3; p++) {
      nodes.add(Node.start(NodeConfig.load(Settings.of(coordinated(env, p)))));
      ingests.add(new Ingest());
    }
  }

  @Test
  void threeNodesHandOverToOneCommitterAndEveryAcknowledgedEventLandsOnce() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      List<Node> nodes = new ArrayList<>();
      List<Ingest> ingests = new ArrayList<>();
      try {
        startThree(env, nodes, ingests);
        write(nodes, ingests, 0, 20);
        for (Node node : nodes) {
          node.flusher().flushNow().get(60, TimeUnit.SECONDS);
        }
        var rows = env.rows();
        for (int p = 0; p < 3; p++) {
          assertThat(ingests.get(p).acknowledged).hasSize(20 * 30);
          Ingest.assertExactly(rows, p, ingests.get(p).acknowledged);
        }
        long holders = nodes.stream().filter(n -> n.coordinatorRole().local() != null).count();
        assertThat(holders).as("nodes holding the committer role").isEqualTo(1);
        Table table = env.table();
        assertThat(CoordinatorClaim.current(table).epoch()).isEqualTo(1);
        // after the claim, every flush is a batch commit under coordinator epoch 1
        List<Snapshot> flushes = flushSnapshots(table);
        assertThat(flushes).isNotEmpty();
        assertThat(flushes)
            .allSatisfy(
                s ->
                    assertThat(s.summary())
                        .containsEntry(FloeTableKeys.COORDINATOR_EPOCH, "1")
                        .containsKey(FloeTableKeys.COMMIT_ID));
        Node holder =
            nodes.stream().filter(n -> n.coordinatorRole().local() != null).findFirst().get();
        // a malformed hand-over is refused with a JSON error and changes nothing; a node that does
        // not hold the role says so
        HttpResponse<String> bad =
            handover(holder.port(), "?partition=1&epoch=1&after=5&through=3&events=1", "x");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(bad.body()).getString("error")).isEqualTo("bad_handover");
        HttpResponse<String> garbage =
            handover(holder.port(), "?partition=1&epoch=1&after=600&through=700&events=1", "x");
        assertThat(garbage.statusCode()).isEqualTo(400);
        Node other =
            nodes.stream().filter(n -> n.coordinatorRole().local() == null).findFirst().get();
        HttpResponse<String> elsewhere =
            handover(other.port(), "?partition=1&epoch=1&after=600&through=700&events=1", "x");
        assertThat(elsewhere.statusCode()).isEqualTo(421);
        assertThat(new JsonObject(elsewhere.body()).getString("answer"))
            .isEqualTo("not_coordinator");
        Ingest.assertExactly(env.rows(), 1, ingests.get(1).acknowledged);
        String metrics = ingests.get(0).get(holder.port(), "/metrics").body();
        assertThat(metrics)
            .containsPattern("(?m)^floe_coordinator_epoch 1\\.0$")
            .containsPattern("(?m)^floe_coordinator_known_epoch 1\\.0$")
            .containsPattern("(?m)^floe_coordinator_commits_total [1-9]")
            .containsPattern("(?m)^floe_coordinator_expired_handovers_total 0\\.0$")
            // the table as of the committer's last commit, only on the holder
            .containsPattern("(?m)^floe_table_metadata_bytes [1-9]")
            .containsPattern("(?m)^floe_table_manifests [1-9]")
            .containsPattern("(?m)^floe_table_snapshots [1-9]");
        assertThat(ingests.get(0).get(other.port(), "/metrics").body())
            .containsPattern("(?m)^floe_coordinator_known_epoch [01]\\.0$")
            .doesNotContainPattern("(?m)^floe_table_metadata_bytes ");
      } finally {
        for (Node node : nodes) {
          node.close();
        }
      }
    }
  }

  @Test
  void aStoppingCommitterStepsDownAndAnotherNodeTakesTheRoleOver() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      List<Node> nodes = new ArrayList<>();
      List<Ingest> ingests = new ArrayList<>();
      try {
        startThree(env, nodes, ingests);
        write(nodes, ingests, 0, 5);
        for (Node node : nodes) {
          node.flusher().flushNow().get(60, TimeUnit.SECONDS);
        }
        Node holder =
            nodes.stream().filter(n -> n.coordinatorRole().local() != null).findFirst().get();
        int stopped = nodes.indexOf(holder);
        // acknowledged just before the stop: the stopping node's final flush commits them
        ingests.get(stopped).send(holder.port(), "c" + stopped, "last", 30);
        holder.close();
        List<Node> rest = new ArrayList<>(nodes);
        rest.remove(holder);
        for (Node node : rest) {
          int p = nodes.indexOf(node);
          for (int i = 0; i < 5; i++) {
            ingests.get(p).send(node.port(), "c" + p, "after-" + i, 30);
          }
          node.flusher().flushNow().get(60, TimeUnit.SECONDS);
        }
        assertThat(rest.stream().filter(n -> n.coordinatorRole().local() != null).count())
            .as("nodes holding the committer role after the step-down")
            .isEqualTo(1);
        assertThat(CoordinatorClaim.current(env.table()).epoch()).isEqualTo(2);
        var rows = env.rows();
        for (int p = 0; p < 3; p++) {
          Ingest.assertExactly(rows, p, ingests.get(p).acknowledged);
        }
      } finally {
        for (Node node : nodes) {
          node.close();
        }
      }
    }
  }

  private static HttpResponse<String> handover(int port, String query, String body)
      throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/internal/v1/handover" + query))
                .header("Content-Type", "application/octet-stream")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Item 3 of the scale-out: in a steady coordinated cluster the nodes that do not hold the role
   * check their claims and their typed columns with the committer, not by loading the table; a
   * change to the table's settings still reaches them (one load each, when the committer's settings
   * version moves), and another process's claim still fences an idle node.
   */
  @Test
  void idleNodesAskTheCommitterInsteadOfLoadingTheTableAndStillFollowItsChanges() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      List<Node> nodes = new ArrayList<>();
      List<Ingest> ingests = new ArrayList<>();
      try {
        for (int p = 0; p < 3; p++) {
          Map<String, String> s = coordinated(env, p);
          s.put("columns.refresh-seconds", "0.2");
          s.put("flush.claim-check-seconds", "0.2");
          nodes.add(Node.start(NodeConfig.load(Settings.of(s))));
          ingests.add(new Ingest());
        }
        // partitions 0 and 1 get writes; partition 2's node never hands anything over, so it
        // must find the committer on its own
        for (int p = 0; p < 2; p++) {
          for (int i = 0; i < 3; i++) {
            assertThat(
                    ingests
                        .get(p)
                        .send(nodes.get(p).port(), "c" + p, "p" + p + "-" + i, 30)
                        .statusCode())
                .isEqualTo(200);
          }
          nodes.get(p).flusher().flushNow().get(60, TimeUnit.SECONDS);
        }
        List<Node> others =
            nodes.stream().filter(n -> n.coordinatorRole().local() == null).toList();
        assertThat(others).hasSize(2).contains(nodes.get(2));
        Ingest probe = ingests.get(0);
        // a few rounds of both checks, idle: with the committer answering, no table loads at all
        Thread.sleep(1_000);
        double[] before = tableReads(probe, others);
        Thread.sleep(2_000);
        double[] idle = tableReads(probe, others);
        // without the committer's answers each of the two nodes loads the table ~10 times each
        // for columns and for claims in these 2 s; with them none (one at most, for a view
        // request that failed and fell back to the table)
        assertThat(idle[0] - before[0])
            .as("columns loads of the other nodes, idle")
            .isLessThanOrEqualTo(2);
        assertThat(idle[1] - before[1])
            .as("claim-check loads of the other nodes, idle")
            .isLessThanOrEqualTo(2);

        // a stream policy set in the table (as the catalog service's admin API does) still arrives
        String pattern = "view-*";
        env.adminTable()
            .updateProperties()
            .set(FloeTableKeys.streamOnError(pattern), "dead_letter")
            .commit();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (others.stream()
            .anyMatch(
                n ->
                    n.streamPolicies().policies().stream()
                        .noneMatch(x -> x.pattern().equals(pattern)))) {
          assertThat(System.nanoTime()).as("the policy reaches every node").isLessThan(deadline);
          Thread.sleep(50);
        }
        double[] changed = tableReads(probe, others);
        assertThat(changed[0]).as("columns loads after the change").isGreaterThan(before[0]);

        // another process claims a partition while its node (not the committer) idles: the node
        // is fenced all the same, within twice the claim check and the view's answer
        Node victim = others.get(0);
        int victimPartition = nodes.indexOf(victim);
        new CommitProtocol(env.table(), victimPartition, "intruder", "intruder-buffer").claim();
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!victim.flusher().fenced()) {
          assertThat(System.nanoTime()).as("the idle node is fenced").isLessThan(deadline);
          Thread.sleep(50);
        }
      } finally {
        for (Node node : nodes) {
          node.close();
        }
      }
    }
  }

  /**
   * A node handing its ranges over never refreshes the table it writes with by committing: a change
   * of Iceberg's file-writing settings reaches it through the settings version all the same (here a
   * tiny target file size makes the next flush roll its file every 1,000 rows).
   */
  @Test
  void aChangeOfTheTablesFileSettingsReachesTheNodesThatHandOver() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      List<Node> nodes = new ArrayList<>();
      List<Ingest> ingests = new ArrayList<>();
      try {
        for (int p = 0; p < 2; p++) {
          Map<String, String> s = coordinated(env, p);
          s.put("columns.refresh-seconds", "0.2");
          nodes.add(Node.start(NodeConfig.load(Settings.of(s))));
          ingests.add(new Ingest());
        }
        for (int p = 0; p < 2; p++) {
          assertThat(ingests.get(p).send(nodes.get(p).port(), "c", "warm-" + p, 10).statusCode())
              .isEqualTo(200);
          nodes.get(p).flusher().flushNow().get(60, TimeUnit.SECONDS);
        }
        Node writer =
            nodes.stream().filter(n -> n.coordinatorRole().local() == null).findFirst().get();
        int p = nodes.indexOf(writer);
        String series = "floe_node_table_reads_total{purpose=\"columns\"}";
        double reads = counter(ingests.get(p).get(writer.port(), "/metrics").body(), series);
        env.adminTable()
            .updateProperties()
            .set(TableProperties.WRITE_TARGET_FILE_SIZE_BYTES, "1")
            .commit();
        // the watcher learns of it from the committer's view, then the flusher re-reads its table
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (counter(ingests.get(p).get(writer.port(), "/metrics").body(), series) <= reads) {
          assertThat(System.nanoTime()).as("the node re-reads the table").isLessThan(deadline);
          Thread.sleep(50);
        }
        long before = dataFiles(env);
        for (int i = 0; i < 3; i++) {
          assertThat(ingests.get(p).send(writer.port(), "c", "big-" + i, 1_000).statusCode())
              .isEqualTo(200);
        }
        writer.flusher().flushNow().get(60, TimeUnit.SECONDS);
        assertThat(dataFiles(env) - before)
            .as("files of one flush of 3,000 rows at a 1-byte target size")
            .isGreaterThanOrEqualTo(3);
        Ingest.assertExactly(env.rows(), p, ingests.get(p).acknowledged);
      } finally {
        for (Node node : nodes) {
          node.close();
        }
      }
    }
  }

  private static long dataFiles(TableEnv env) throws Exception {
    long n = 0;
    try (CloseableIterable<FileScanTask> tasks = env.table().newScan().planFiles()) {
      for (FileScanTask t : tasks) {
        n++;
      }
    }
    return n;
  }

  /** The table loads for typed columns and for claim checks, summed over {@code nodes}. */
  private static double[] tableReads(Ingest http, List<Node> nodes) throws Exception {
    double[] sums = new double[2];
    for (Node n : nodes) {
      String metrics = http.get(n.port(), "/metrics").body();
      sums[0] += counter(metrics, "floe_node_table_reads_total{purpose=\"columns\"}");
      sums[1] += counter(metrics, "floe_node_table_reads_total{purpose=\"claim_check\"}");
    }
    return sums;
  }

  private static double counter(String metrics, String series) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim());
      }
    }
    return 0;
  }

  /** Sends {@code batches} batches of 30 events to each node, all nodes at once. */
  private static void write(List<Node> nodes, List<Ingest> ingests, int first, int batches)
      throws Exception {
    List<Thread> writers = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    for (int p = 0; p < nodes.size(); p++) {
      int partition = p;
      Thread t =
          new Thread(
              () -> {
                try {
                  for (int i = first; i < first + batches; i++) {
                    var r =
                        ingests
                            .get(partition)
                            .send(
                                nodes.get(partition).port(),
                                "c" + partition,
                                "p" + partition + "-" + i,
                                30);
                    assertThat(r.statusCode()).isEqualTo(200);
                    Thread.sleep(20);
                  }
                } catch (Throwable e) {
                  synchronized (failures) {
                    failures.add(e);
                  }
                }
              });
      writers.add(t);
      t.start();
    }
    for (Thread t : writers) {
      t.join();
    }
    assertThat(failures).isEmpty();
  }

  /** The flush snapshots after the first coordinator claim, newest first. */
  private static List<Snapshot> flushSnapshots(Table table) {
    List<Snapshot> out = new ArrayList<>();
    for (Snapshot s = table.currentSnapshot();
        s != null;
        s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
      String op = s.summary().get(FloeTableKeys.OPERATION);
      if (FloeTableKeys.OPERATION_COORDINATOR_CLAIM.equals(op)) {
        break;
      }
      if (FloeTableKeys.OPERATION_FLUSH.equals(op)) {
        out.add(s);
      }
    }
    return out;
  }
}
