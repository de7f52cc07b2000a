package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
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
 * Three nodes, two routers and nginx in front, each its own process on localhost. Under load
 * through the load balancer, each scenario ends with the table holding exactly the acknowledged
 * events (none lost, none twice), and one key's events in one partition in sequence order.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterTest {
  private LocalCluster cluster;
  private TableCheck check;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void startCluster(@TempDir(cleanup = CleanupMode.ON_SUCCESS) Path dir) throws Exception {
    cluster = new LocalCluster(dir, 3, 2).start();
    check = new TableCheck(cluster);
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  private String lb() {
    return "http://127.0.0.1:" + cluster.nginx.port;
  }

  private AckingWriter load(String run) {
    AckingWriter w = new AckingWriter(lb(), 4, 50, run);
    w.start();
    return w;
  }

  @Test
  @Order(1)
  void steadyLoadThroughTheLoadBalancer() throws Exception {
    AckingWriter w = load("steady");
    Thread.sleep(6000);
    w.stop();
    assertThat(w.acked).hasSizeGreaterThan(2000);
    assertThat(w.errors.get()).as("refusals: %s", w.refusals).isZero();
    verify(w, true);
  }

  @Test
  @Order(2)
  void aNodeKilledUnderLoadAndRestarted() throws Exception {
    AckingWriter w = load("nodekill");
    Thread.sleep(2500);
    JavaProcess victim = cluster.nodes.get(1);
    victim.kill();
    Thread.sleep(2500);
    victim.start().awaitHttp("/health/ready", Duration.ofSeconds(120));
    Thread.sleep(2500);
    w.stop();
    assertThat(w.acked).hasSizeGreaterThan(1000);
    assertThat(w.retriedAndAcked.get()).as("requests acknowledged only on a retry").isPositive();
    // requests carry idempotency keys, so the killed node's keys waited for it instead of moving:
    // every key stays in one partition, in order, and no retried request is stored twice
    verify(w, true);
  }

  @Test
  @Order(3)
  void aRouterKilledUnderLoad() throws Exception {
    AckingWriter w = load("routerkill");
    Thread.sleep(2500);
    cluster.routers.get(0).kill();
    Thread.sleep(4000);
    w.stop();
    assertThat(w.acked).hasSizeGreaterThan(1000);
    verify(w, true);
    cluster.routers.get(0).start().awaitHttp("/health/ready", Duration.ofSeconds(60));
  }

  @Test
  @Order(4)
  void theObjectStoreStoppedForTenSecondsUnderLoad() throws Exception {
    AckingWriter w = load("s3stop");
    Thread.sleep(2000);
    cluster.s3.kill();
    Thread.sleep(10_000);
    cluster.s3.start();
    Thread.sleep(2000);
    w.stop();
    assertThat(w.acked).hasSizeGreaterThan(1000);
    assertThat(w.errors.get())
        .as("nodes keep acknowledging while S3 is away (buffer budget not used)")
        .isZero();
    verify(w, true);
  }

  @Test
  @Order(5)
  void tableMaintenanceExpiredSnapshotsWhileNodesCommittedAndRecovered() throws Exception {
    String metrics =
        http.send(
                HttpRequest.newBuilder(URI.create(cluster.catalogUri() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString())
            .body();
    assertThat(metrics).contains("floe_maintenance_lease_held 1.0");
    Matcher m =
        Pattern.compile("(?m)^floe_maintenance_snapshots_expired_total (\\S+)$").matcher(metrics);
    assertThat(m.find()).isTrue();
    assertThat(Double.parseDouble(m.group(1)))
        .as("snapshots expired during the runs above")
        .isPositive();
    // every acknowledged event of every run is still in the table exactly once (checked in each run
    // too, while expiry went on), and the nodes go on committing
    AckingWriter w = load("after-expiry");
    Thread.sleep(2000);
    w.stop();
    verify(w, true);
  }

  @Test
  @Order(6)
  void aTypedColumnAddedWhileThreeNodesIngest() throws Exception {
    AckingWriter w = load("columns");
    Thread.sleep(2000);
    long added = System.currentTimeMillis();
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(cluster.catalogUri() + "/floe/v1/columns"))
                .header("Content-Type", "application/json")
                .POST(
                    HttpRequest.BodyPublishers.ofString(
                        "{\"name\":\"n\",\"type\":\"long\",\"path\":\"n\",\"on_mismatch\":\"reject\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    Thread.sleep(13_000);
    w.stop();
    assertThat(w.errors.get()).as("refusals: %s", w.refusals).isZero();
    verify(w, true); // nothing lost, nothing twice, across the schema change
    Table table =
        CatalogConnector.open("test", CatalogConnector.rest(cluster.catalogUri()))
            .loadTable(EventsTable.identifier(TableSettings.defaults()));
    long before = 0;
    long filled = 0;
    long lateRows = 0;
    try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
      for (Record row : rows) {
        JsonObject payload = new JsonObject((String) row.getField("payload"));
        Object n = row.getField("n");
        boolean thisRun = payload.getString("id").startsWith("columns-");
        if (!thisRun) {
          assertThat(n).as("rows committed before the column existed stay null").isNull();
          before++;
          continue;
        }
        if (n != null) {
          assertThat(n).as("the typed value is the payload's").isEqualTo(payload.getLong("n"));
          filled++;
        }
        long ingestMillis =
            ((OffsetDateTime) row.getField("ingest_time")).toInstant().toEpochMilli();
        if (ingestMillis > added + 10_000) {
          lateRows++;
          assertThat(n)
              .as("rows ingested 10 s after the mapping was added have the value: %s", payload)
              .isNotNull();
        }
      }
    }
    assertThat(before).isPositive();
    assertThat(lateRows).as("rows ingested after every node followed the mapping").isPositive();
    assertThat(filled).isGreaterThanOrEqualTo(lateRows);
    for (JavaProcess node : cluster.nodes) {
      String metrics =
          http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port + "/metrics"))
                      .header("Authorization", "Bearer " + LocalCluster.OPERATOR_TOKEN)
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics).as(node.name).contains("floe_columns_active 1.0");
    }
  }

  private void verify(AckingWriter w, boolean keysStayInOnePartition) throws Exception {
    check.verify(w, keysStayInOnePartition);
  }
}
