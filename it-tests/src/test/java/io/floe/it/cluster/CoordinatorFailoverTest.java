package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.commit.CoordinatorClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntUnaryOperator;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three node processes with {@code commit.mode=coordinated} under load through the load balancer,
 * and the one that holds the committer role lost: killed (SIGKILL), other nodes take the role over
 * and commits resume within 15 s; paused (SIGSTOP) for 20 s, replaced, then resumed, it never lands
 * a commit after the newer claim (the zombie is fenced by the coordinator epoch in the table).
 * Every acknowledged event is in the table exactly once.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CoordinatorFailoverTest {
  private LocalCluster cluster;
  private TableCheck check;
  private Table table;
  private RoleWatch role;

  @BeforeAll
  void startCluster(@TempDir Path dir) throws Exception {
    // assigned before it starts, so that a start that fails still stops what it started; no table
    // maintenance: its expiry (5 s here) would remove the very snapshots the zombie check reads
    cluster =
        new LocalCluster(
            dir,
            3,
            1,
            new LocalCluster.Options(false, IntUnaryOperator.identity())
                .withNodeEnv(
                    Map.of(
                        "FLOE_COMMIT_MODE", "coordinated",
                        "FLOE_COMMIT_INTERVAL_SECONDS", "0.5",
                        "FLOE_COMMIT_HANDOVER_TIMEOUT_SECONDS", "8",
                        "FLOE_COMMIT_COORDINATOR_TIMEOUT_SECONDS", "8",
                        "FLOE_COMMIT_TAKEOVER_SPREAD_SECONDS", "1")));
    cluster.start();
    check = new TableCheck(cluster);
    table =
        CatalogConnector.open("test", CatalogConnector.rest(cluster.catalogUri()))
            .loadTable(EventsTable.identifier(TableSettings.defaults()));
    role = new RoleWatch(table);
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private AckingWriter load(String run) {
    AckingWriter w = new AckingWriter("http://127.0.0.1:" + cluster.nginx.port, 4, 50, run);
    w.start();
    return w;
  }

  private JavaProcess nodeAt(String address) {
    return cluster.nodes.stream()
        .filter(n -> address.equals("127.0.0.1:" + n.port))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no node at " + address));
  }

  /**
   * Watches the table for {@code limit} (maintenance expires snapshots within seconds here), and
   * collects every snapshot that records a coordinator epoch, by its sequence number.
   */
  private TreeMap<Long, Snapshot> watchEpochs(Duration limit) throws Exception {
    TreeMap<Long, Snapshot> seen = new TreeMap<>();
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() < deadline) {
      table.refresh();
      role.recordingEpochs().forEach(s -> seen.put(s.sequenceNumber(), s));
      Thread.sleep(200);
    }
    return seen;
  }

  @Test
  @Order(1)
  void theCommitterKilledUnderLoadIsReplacedWithin15Seconds() throws Exception {
    AckingWriter w = load("kill");
    CoordinatorClaim.Coordinator before = role.coordinator();
    Thread.sleep(3000);
    JavaProcess victim = nodeAt(before.address());
    long killedAt = System.currentTimeMillis();
    victim.kill();
    Snapshot resumed = role.firstCommitAbove(before.epoch(), Duration.ofSeconds(60));
    assertThat(resumed).as("a batch commit by a new committer").isNotNull();
    assertThat(resumed.timestampMillis() - killedAt)
        .as("milliseconds from the kill to the new committer's first commit")
        .isLessThanOrEqualTo(15_000);
    victim.start().awaitHttp("/health/ready", Duration.ofSeconds(300));
    Thread.sleep(2000);
    w.stop();
    assertThat(w.acked).hasSizeGreaterThan(500);
    check.verify(w, true);
  }

  @Test
  @Order(2)
  void aPausedCommitterIsReplacedAndLandsNothingWhenItResumes() throws Exception {
    AckingWriter w = load("pause");
    CoordinatorClaim.Coordinator before = role.coordinator();
    Thread.sleep(2000);
    JavaProcess zombie = nodeAt(before.address());
    zombie.pause();
    Snapshot resumed;
    try {
      Thread.sleep(20_000);
      resumed = role.firstCommitAbove(before.epoch(), Duration.ofSeconds(30));
    } finally {
      zombie.resume();
    }
    assertThat(resumed).as("a batch commit by the node that replaced the paused one").isNotNull();
    // the zombie wakes with hand-overs pending and a commit loop that still thinks it coordinates:
    // in table order, once a newer epoch is recorded (its claim), no older epoch's commit follows
    TreeMap<Long, Snapshot> seen = watchEpochs(Duration.ofSeconds(8));
    long highest = 0;
    for (Snapshot s : seen.values()) {
      long epoch = Long.parseLong(s.summary().get(FloeTableKeys.COORDINATOR_EPOCH));
      assertThat(epoch)
          .as(
              "coordinator epoch of snapshot %d (%s), after epoch %d was recorded",
              s.snapshotId(), s.summary().get(FloeTableKeys.OPERATION), highest)
          .isGreaterThanOrEqualTo(highest);
      highest = Math.max(highest, epoch);
    }
    assertThat(highest).isGreaterThan(before.epoch());
    w.stop();
    check.verify(w, true);
  }
}
