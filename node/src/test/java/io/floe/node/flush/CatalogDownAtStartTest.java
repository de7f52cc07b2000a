package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.service.CatalogService;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.config.Settings;
import io.floe.common.net.FreePort;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.data.IcebergGenerics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that held its partition before starts while the catalog is down: it takes and acknowledges
 * writes at once, and claims, recovers and flushes them when the catalog is back.
 */
class CatalogDownAtStartTest {
  @TempDir Path tmp;

  private CatalogService catalog(LocalS3 s3, int port) throws Exception {
    return LocalCatalog.start(
        tmp.resolve("catalog.db"),
        s3.fileIoProperties(),
        Map.of(
            "FLOE_SERVICE_PORT",
            Integer.toString(port),
            "FLOE_CATALOG_WAREHOUSE",
            "s3://floe/warehouse"));
  }

  @Test
  void writesAreBufferedUntilTheCatalogReturnsThenCommittedOnce() throws Exception {
    int port = FreePort.pick();
    try (LocalS3 s3 = LocalS3.start(tmp.resolve("s3"), 0, "floe")) {
      CatalogService service = catalog(s3, port);
      Map<String, String> s =
          new HashMap<>(
              Map.of(
                  "node.partition-id",
                  "5",
                  "http.port",
                  "0",
                  "http.host",
                  "127.0.0.1",
                  "http.event-loops",
                  "1",
                  "buffer.dir",
                  tmp.resolve("node").toString(),
                  "catalog.type",
                  "rest",
                  "catalog.uri",
                  "http://127.0.0.1:" + port,
                  "flush.max-age-seconds",
                  "3600",
                  "flush.retry-max-seconds",
                  "1",
                  "catalog.startup-timeout-seconds",
                  "2"));
      s.put("auth.disabled", "true");
      Ingest ingest = new Ingest();
      try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
        assertThat(ingest.send(node.port(), "c", "before", 10).statusCode()).isEqualTo(200);
        assertThat(ingest.post(node.port(), "/v1/flush").statusCode()).isEqualTo(200);
      }
      service.close();

      long start = System.nanoTime();
      try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
        assertThat(System.nanoTime() - start)
            .as("waited only catalog.startup-timeout-seconds, not for the catalog")
            .isLessThan(TimeUnit.SECONDS.toNanos(8));
        assertThat(ingest.get(node.port(), "/health/ready").statusCode()).isEqualTo(200);
        assertThat(ingest.send(node.port(), "c", "down", 10).statusCode()).isEqualTo(200);
        HttpResponse<String> notYet = ingest.post(node.port(), "/v1/flush");
        assertThat(notYet.statusCode()).isEqualTo(503);
        assertThat(
                new JsonObject(ingest.get(node.port(), "/v1/status").body())
                    .getBoolean("table_joined"))
            .isFalse();

        service = catalog(s3, port);
        HttpResponse<String> flushed = ingest.flushUntilCommitted(node.port());
        assertThat(flushed.statusCode()).as(flushed.body()).isEqualTo(200);
        assertThat(new JsonObject(flushed.body()).getLong("committed_sequence")).isEqualTo(20);
      }
      try {
        List<TableEnv.Row> rows = new ArrayList<>();
        var client =
            CatalogConnector.open("reader", CatalogConnector.rest("http://127.0.0.1:" + port));
        var table = client.loadTable(EventsTable.identifier(TableSettings.defaults()));
        try (var records = IcebergGenerics.read(table).build()) {
          for (var r : records) {
            rows.add(
                new TableEnv.Row(
                    (String) r.getField("stream"),
                    (Integer) r.getField("partition_id"),
                    (Long) r.getField("sequence"),
                    null,
                    null,
                    null,
                    (String) r.getField("payload")));
          }
        }
        Ingest.assertExactly(rows, 5, ingest.acknowledged);
      } finally {
        service.close();
      }
    }
  }
}
