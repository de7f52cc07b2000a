package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Table maintenance inside the catalog service, as the Terraform runs it: two service instances
 * over one database, exactly one of them maintaining the table, and its metrics on /metrics.
 */
class CatalogMaintenanceTest {
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> metrics(CatalogService s, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/metrics"));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static int size(Iterable<?> items) {
    int n = 0;
    for (Object ignored : items) {
      n++;
    }
    return n;
  }

  private static boolean holds(String metrics) {
    return metrics.contains("floe_maintenance_lease_held 1.0");
  }

  @Test
  void twoServicesOneMaintainerAndTheOtherTakesOverWhenItStops() throws Exception {
    Path tokens =
        Files.write(
            tmp.resolve("tokens"),
            List.of(
                TokenStore.line("nodes", "catalog:commit", "t-commit"),
                TokenStore.line("prometheus", "read", "t-read")));
    try (LocalS3 s3 = LocalS3.start(tmp.resolve("s3"), 0, "floe")) {
      Map<String, String> fileIo = new HashMap<>(s3.fileIoProperties());
      fileIo.put("warehouse", "s3://floe/warehouse");
      Map<String, String> env =
          Map.of(
              "FLOE_AUTH_TOKENS_FILE",
              tokens.toString(),
              "FLOE_MAINTENANCE_ENABLED",
              "true",
              "FLOE_MAINTENANCE_INTERVAL_SECONDS",
              "0.2",
              "FLOE_MAINTENANCE_LEASE_SECONDS",
              "2",
              "FLOE_MAINTENANCE_MIN_SNAPSHOTS",
              "1",
              "FLOE_MAINTENANCE_MAX_SNAPSHOTS",
              "2");
      CatalogService a = LocalCatalog.start(tmp.resolve("catalog.db"), fileIo, env);
      CatalogService b = LocalCatalog.start(tmp.resolve("catalog.db"), fileIo, env);
      try {
        Catalog nodes =
            CatalogConnector.open(
                "nodes",
                CatalogConnector.properties(
                    Settings.of(
                        Map.of(
                            "catalog.uri",
                            "http://127.0.0.1:" + a.port(),
                            "catalog.token",
                            "t-commit"))));
        EventsTable.ensure(nodes, TableSettings.defaults());
        DeadLetterTable.ensure(nodes, TableSettings.defaults());
        Table deadLetters =
            a.catalog().loadTable(DeadLetterTable.identifier(TableSettings.defaults()));
        for (int i = 0; i < 6; i++) {
          deadLetters.newFastAppend().commit(); // a snapshot each (in the service: no policy)
        }

        assertThat(metrics(a, null).statusCode()).as("metrics need a token").isEqualTo(401);
        assertThat(metrics(a, "t-commit").statusCode())
            .as("a node's token is not for metrics")
            .isEqualTo(403);
        long deadline = System.nanoTime() + 20_000_000_000L;
        String ma = "";
        String mb = "";
        while (System.nanoTime() < deadline) {
          ma = metrics(a, "t-read").body();
          mb = metrics(b, "t-read").body();
          if (holds(ma) || holds(mb)) {
            break;
          }
          Thread.sleep(100);
        }
        Thread.sleep(1000); // several cycles of both
        ma = metrics(a, "t-read").body();
        mb = metrics(b, "t-read").body();
        assertThat(holds(ma) ^ holds(mb))
            .as("exactly one maintains the table:\n%s\n%s", ma, mb)
            .isTrue();
        assertThat(holds(ma) ? ma : mb)
            .contains("floe_maintenance_runs_total{outcome=\"ok\",task=\"compact\"}")
            .contains("jvm_memory_used_bytes");
        // the dead-letter table's maintenance shows under its own names
        deadline = System.nanoTime() + 20_000_000_000L;
        // (the lease gauge is set before the first task runs: wait for both)
        while (!(ma + mb).contains("floe_dead_letter_maintenance_lease_held 1")
            || !(ma + mb)
                .contains(
                    "floe_dead_letter_maintenance_runs_total{outcome=\"ok\",task=\"expire\"}")) {
          assertThat(System.nanoTime())
              .as("the dead-letter table's maintenance on /metrics:\n%s\n%s", ma, mb)
              .isLessThan(deadline);
          Thread.sleep(100);
          ma = metrics(a, "t-read").body();
          mb = metrics(b, "t-read").body();
        }

        // the dead-letter table is maintained too: a holder takes its lease
        deadline = System.nanoTime() + 20_000_000_000L;
        while (!a.catalog()
            .loadTable(DeadLetterTable.identifier(TableSettings.defaults()))
            .properties()
            .containsKey(FloeTableKeys.MAINTENANCE_HOLDER)) {
          assertThat(System.nanoTime())
              .as("the dead-letter table gets a maintenance holder")
              .isLessThan(deadline);
          Thread.sleep(100);
        }
        // and its snapshots beyond maintenance.max-snapshots are expired
        deadline = System.nanoTime() + 20_000_000_000L;
        while (size(
                a.catalog()
                    .loadTable(DeadLetterTable.identifier(TableSettings.defaults()))
                    .snapshots())
            > 2) {
          assertThat(System.nanoTime())
              .as("the dead-letter table's snapshots are expired down to the bound")
              .isLessThan(deadline);
          Thread.sleep(100);
        }

        CatalogService holder = holds(ma) ? a : b;
        CatalogService other = holder == a ? b : a;
        holder.close();
        deadline = System.nanoTime() + 20_000_000_000L;
        while (!holds(metrics(other, "t-read").body())) {
          assertThat(System.nanoTime()).as("the other service takes over").isLessThan(deadline);
          Thread.sleep(100);
        }
      } finally {
        a.close();
        b.close();
      }
    }
  }
}
