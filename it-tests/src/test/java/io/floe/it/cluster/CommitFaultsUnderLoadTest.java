package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.maintenance.MaintenanceConfig;
import io.floe.catalog.maintenance.MaintenanceMetrics;
import io.floe.catalog.maintenance.TableMaintenance;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.floe.common.config.Settings;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ambiguous commit outcomes while producers write through the load balancer: the catalog applies a
 * commit and its client is told it failed ({@code 409 CommitFailedException}, as over PostgreSQL
 * when a rerun of the applied UPDATE matches no row; or {@code 500}, the answer lost). Nodes'
 * flushes and a table maintenance's compactions meet both; every acknowledged event ends in the
 * table exactly once, and the table stays readable (every file its snapshot names exists).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CommitFaultsUnderLoadTest {
  private LocalCluster cluster;
  private CatalogFaultProxy nodesProxy;
  private TableCheck check;

  @BeforeAll
  void startCluster(@TempDir Path dir) throws Exception {
    // the catalog service does not maintain the table here: the test runs maintenance itself,
    // through a proxy of its own, as an operator may (e.g. beside Glue)
    cluster =
        new LocalCluster(
                dir,
                3,
                1,
                new LocalCluster.Options(
                    false,
                    catalogPort -> {
                      try {
                        nodesProxy = new CatalogFaultProxy(catalogPort);
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                      return nodesProxy.port();
                    }))
            .start();
    check = new TableCheck(cluster);
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (nodesProxy != null) {
      nodesProxy.close();
    }
  }

  private AckingWriter load(String run) {
    return new AckingWriter("http://127.0.0.1:" + cluster.nginx.port, 4, 50, run);
  }

  @Test
  @Order(1)
  void flushCommitsAnsweredAsFailedAfterTheyLanded() throws Exception {
    AckingWriter w = load("flush-faults");
    w.start();
    Thread.sleep(1000);
    nodesProxy.inject(CatalogFaultProxy.Fault.REFUSED, 2, body -> true);
    awaitInjected(nodesProxy.refused, 3);
    nodesProxy.inject(CatalogFaultProxy.Fault.LOST, 2, body -> true);
    awaitInjected(nodesProxy.lost, 3);
    nodesProxy.stop();
    Thread.sleep(1000);
    w.stop();
    assertThat(w.acked).hasSizeGreaterThan(500);
    check.verify(w, true);
  }

  @Test
  @Order(2)
  void compactionsAnsweredAsFailedAfterTheyLanded() throws Exception {
    AckingWriter w = load("compaction-load");
    w.start();
    TableIdentifier id = EventsTable.identifier(TableSettings.defaults());
    List<AckingWriter> late = new ArrayList<>();
    int compacted = 0;
    try (CatalogFaultProxy proxy = new CatalogFaultProxy(cluster.catalog.port)) {
      Catalog catalog =
          CatalogConnector.open(
              "maintenance", CatalogConnector.rest("http://127.0.0.1:" + proxy.port()));
      TableMaintenance maintenance =
          new TableMaintenance(
              () -> catalog.loadTable(id),
              MaintenanceConfig.load(
                  Settings.of(
                      Map.of(
                          MaintenanceConfig.COMPACT_AFTER, "3600",
                          MaintenanceConfig.HOLDER, "it-maintenance"))),
              new MaintenanceMetrics(new PrometheusRegistry()),
              Clock.systemUTC());
      for (CatalogFaultProxy.Fault fault : CatalogFaultProxy.Fault.values()) {
        lateEvents(late, "late-" + fault);
        proxy.inject(fault, 1, body -> body.contains(FloeTableKeys.COMPACTION_ID));
        AtomicInteger injected =
            fault == CatalogFaultProxy.Fault.REFUSED ? proxy.refused : proxy.lost;
        // a compaction may also lose a race with the nodes' commits: try a few cycles
        for (int cycle = 0; cycle < 5 && injected.get() == 0; cycle++) {
          compacted += cycle(maintenance).groups();
        }
        proxy.stop();
        assertThat(injected).as("compactions answered %s after they landed", fault).hasValue(1);
      }
      // and once more without a fault: the table, as the faults left it, compacts again
      lateEvents(late, "late-clean");
      compacted += cycle(maintenance).groups();
    }
    w.stop();
    assertThat(w.acked).hasSizeGreaterThan(500);
    assertThat(compacted).as("compactions that landed").isGreaterThanOrEqualTo(3);
    late.add(w);
    check.verify(late, true);
  }

  /**
   * Two seconds of late events (their hour closed three hours ago) beside the load, flushed: small
   * files for maintenance to compact in a closed hour that no node writes to while it does.
   */
  private void lateEvents(List<AckingWriter> late, String run) throws Exception {
    String threeHoursAgo =
        OffsetDateTime.now(ZoneOffset.UTC).minusHours(3).truncatedTo(ChronoUnit.SECONDS).toString();
    AckingWriter l = load(run).eventTime(threeHoursAgo);
    l.start();
    Thread.sleep(2000);
    l.stop();
    assertThat(l.acked).as("late events acknowledged").isNotEmpty();
    late.add(l);
    for (JavaProcess node : cluster.nodes) {
      check.flush(node);
    }
  }

  /** One maintenance cycle; a failure is the test's (the cycle itself logs and goes on). */
  private static TableMaintenance.Cycle cycle(TableMaintenance maintenance) {
    try {
      return maintenance.runOnce();
    } catch (UncheckedIOException e) {
      throw new AssertionError("maintenance cycle failed", e);
    }
  }

  private static void awaitInjected(AtomicInteger injected, int count) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (injected.get() < count) {
      assertThat(System.nanoTime()).as("%d faults injected", count).isLessThan(deadline);
      Thread.sleep(100);
    }
  }
}
