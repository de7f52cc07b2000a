package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.commit.CoordinatorClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The committer role's other faults, on three node processes with {@code commit.mode=coordinated}
 * under load through the load balancer: the catalog refusing commits for a while (backpressure), a
 * node killed right after handing a range over (the committer commits the range while the node is
 * dead; or the node is back before the committer sees the range), and a node cut off from the
 * committer only while it still reaches the catalog. Every acknowledged event is in the table
 * exactly once. The nodes reach the catalog through a {@link CatalogFaultProxy}, and each other's
 * hand-over route through a {@link HandoverProxy} (each node advertises its port there).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CoordinatedFaultsTest {
  private static final Duration HANDOVER_TIMEOUT = Duration.ofSeconds(4);
  private static final Duration COORDINATOR_TIMEOUT = Duration.ofSeconds(6);

  private LocalCluster cluster;
  private CatalogFaultProxy catalogProxy;
  private HandoverProxy handovers;
  private final Map<Integer, Integer> handoverPorts = new ConcurrentHashMap<>();
  private TableCheck check;
  private RoleWatch role;

  @BeforeAll
  void startCluster(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    handovers = new HandoverProxy();
    cluster =
        new LocalCluster(
            dir,
            3,
            1,
            new LocalCluster.Options(
                    false,
                    catalogPort -> {
                      try {
                        catalogProxy = new CatalogFaultProxy(catalogPort);
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                      return catalogProxy.port();
                    })
                .withNodeEnv(
                    Map.of(
                        "FLOE_COMMIT_MODE", "coordinated",
                        "FLOE_COMMIT_INTERVAL_SECONDS", "0.5",
                        "FLOE_COMMIT_HANDOVER_TIMEOUT_SECONDS",
                            Long.toString(HANDOVER_TIMEOUT.toSeconds()),
                        "FLOE_COMMIT_COORDINATOR_TIMEOUT_SECONDS",
                            Long.toString(COORDINATOR_TIMEOUT.toSeconds()),
                        "FLOE_COMMIT_TAKEOVER_SPREAD_SECONDS", "1"))
                .withHandoverPorts(
                    nodePort -> {
                      int front = handovers.front(nodePort);
                      handoverPorts.put(nodePort, front);
                      return front;
                    }));
    cluster.start();
    check = new TableCheck(cluster);
    Table table =
        CatalogConnector.open("test", CatalogConnector.rest(cluster.catalogUri()))
            .loadTable(EventsTable.identifier(TableSettings.defaults()));
    role = new RoleWatch(table);
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (catalogProxy != null) {
      catalogProxy.close();
    }
    if (handovers != null) {
      handovers.close();
    }
  }

  private AckingWriter load(String run) {
    AckingWriter w = new AckingWriter("http://127.0.0.1:" + cluster.nginx.port, 4, 50, run);
    w.start();
    return w;
  }

  /** The address node {@code i} advertises (its hand-over proxy's port). */
  private String advertised(int i) {
    return "127.0.0.1:" + handoverPorts.get(cluster.nodes.get(i).port);
  }

  /** A node (its partition) that does not hold the committer role {@code c}. */
  private int notHolding(CoordinatorClaim.Coordinator c) {
    for (int i = cluster.nodes.size() - 1; i >= 0; i--) {
      if (!advertised(i).equals(c.address())) {
        return i;
      }
    }
    throw new AssertionError("every node holds the role");
  }

  @Test
  @Order(1)
  void commitsResumeWithin15SecondsOfTheCatalogTakingCommitsAgain() throws Exception {
    AckingWriter w = load("backpressure");
    CoordinatorClaim.Coordinator before = role.coordinator();
    Thread.sleep(2000);
    catalogProxy.refuseCommits(503);
    Thread.sleep(8000);
    catalogProxy.refuseCommits(409);
    Thread.sleep(8000);
    long recovered = System.currentTimeMillis();
    catalogProxy.refuseCommits(0);
    assertThat(catalogProxy.turnedAway.get()).as("commits refused").isPositive();
    Snapshot resumed = role.firstFlushSince(recovered, Duration.ofSeconds(60));
    assertThat(resumed).as("a batch commit once the catalog takes commits again").isNotNull();
    assertThat(resumed.timestampMillis() - recovered)
        .as("milliseconds from the catalog's recovery to the first commit")
        .isLessThanOrEqualTo(15_000);
    stopAndVerify(w, 2000);
    // the committer answered busy while the catalog refused: alive, so nobody took the role over
    assertThat(role.coordinator().epoch())
        .as("coordinator epoch after %d commits were turned away", catalogProxy.turnedAway.get())
        .isEqualTo(before.epoch());
  }

  @Test
  @Order(2)
  void aNodeKilledAfterHandingOverLosesAndDoublesNothing() throws Exception {
    AckingWriter w = load("handed-over");
    CoordinatorClaim.Coordinator c = role.coordinator();
    Thread.sleep(2000);
    int p = notHolding(c);
    JavaProcess victim = cluster.nodes.get(p);
    long handedOver = holdARangeNotCommittedYet(p);
    victim.kill();
    try {
      // the committer gets the dead node's range only now, and commits it
      handovers.release(p);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (role.committed(p) < handedOver) {
        assertThat(System.nanoTime())
            .as(
                "the committer commits through %d, the range node %d handed over before it died",
                handedOver, p)
            .isLessThan(deadline);
        Thread.sleep(100);
      }
    } finally {
      handovers.release(p);
      victim.start().awaitHttp("/health/ready", Duration.ofSeconds(300));
    }
    stopAndVerify(w, 2000);
  }

  @Test
  @Order(3)
  void aNodeKilledAfterHandingOverAndBackBeforeTheCommitLosesAndDoublesNothing() throws Exception {
    AckingWriter w = load("back-first");
    CoordinatorClaim.Coordinator c = role.coordinator();
    Thread.sleep(2000);
    int p = notHolding(c);
    JavaProcess victim = cluster.nodes.get(p);
    holdARangeNotCommittedYet(p);
    victim.kill();
    try {
      // the node is back (it claims its partition again and recovers its buffer) before the
      // committer sees the range it handed over in its previous life
      victim.start().awaitHttp("/health/ready", Duration.ofSeconds(300));
    } finally {
      handovers.release(p);
    }
    // the committer decides the old life's range by the table: the partition's epoch is the new
    // life's now, so it is answered fenced (the answer goes nowhere) and never committed
    stopAndVerify(w, 5000);
  }

  @Test
  @Order(4)
  void aNodeCutOffFromTheCommitterTakesTheRoleAndLosesNothing() throws Exception {
    AckingWriter w = load("cut-off");
    CoordinatorClaim.Coordinator before = role.coordinator();
    Thread.sleep(2000);
    int p = notHolding(before);
    long committedAtCut = role.committed(p);
    handovers.cut(p);
    // its hand-overs go unanswered: after the hand-over timeout it reads the table (it reaches the
    // catalog), hands over again, and once the committer has been silent to it for the coordinator
    // timeout it claims the role; the old committer's next commit is fenced
    CoordinatorClaim.Coordinator after =
        role.coordinatorAbove(before.epoch(), Duration.ofSeconds(60));
    assertThat(after.address()).as("the cut-off node holds the role").isEqualTo(advertised(p));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (role.committed(p) <= committedAtCut) {
      assertThat(System.nanoTime())
          .as("partition %d commits again, through its own committer", p)
          .isLessThan(deadline);
      Thread.sleep(100);
    }
    // the others reach it: the role stays where it is while the cut lasts (no churn)
    Thread.sleep(COORDINATOR_TIMEOUT.toMillis() + HANDOVER_TIMEOUT.toMillis() + 2000);
    assertThat(role.coordinator().epoch()).as("no further claims").isEqualTo(after.epoch());
    assertThat(handovers.stopped(p)).as("hand-overs the cut stopped").isPositive();
    handovers.release(p);
    stopAndVerify(w, 0);
  }

  /**
   * Holds node {@code p}'s hand-overs until one of a range the table does not hold yet is held (a
   * held hand-over may re-send a range already committed: the node was told busy and sent it
   * again); returns the sequence it hands over through.
   */
  private long holdARangeNotCommittedYet(int p) throws Exception {
    handovers.hold(p);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (handovers.stoppedThrough(p) <= role.committed(p)) {
      assertThat(System.nanoTime())
          .as("node %d hands over a range not committed yet", p)
          .isLessThan(deadline);
      Thread.sleep(20);
    }
    return handovers.stoppedThrough(p);
  }

  /**
   * Lets the load run {@code settleMillis} more, stops it and checks the table: every acknowledged
   * event exactly once.
   */
  private void stopAndVerify(AckingWriter w, long settleMillis) throws Exception {
    Thread.sleep(settleMillis);
    w.stop();
    assertThat(w.acked).hasSizeGreaterThan(300);
    check.verify(w, true);
  }
}
