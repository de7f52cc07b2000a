package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import java.nio.file.Path;
import java.util.Map;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the tables nodes create through the catalog service live. */
class TableLocationTest {
  @TempDir Path tmp;

  @Test
  void aTableCreatedAfterADropWithoutPurgeGetsALocationOfItsOwn() throws Exception {
    try (LocalS3 s3 = LocalS3.start(tmp.resolve("s3"), 0, "floe");
        CatalogService service =
            LocalCatalog.start(tmp.resolve("catalog.db"), s3.fileIoProperties(), Map.of())) {
      Catalog client =
          CatalogConnector.open(
              "node", CatalogConnector.rest("http://127.0.0.1:" + service.port()));
      TableSettings settings = TableSettings.defaults();
      Table first = EventsTable.ensure(client, settings);
      assertThat(client.dropTable(EventsTable.identifier(settings), false)).isTrue();
      Table second = EventsTable.ensure(client, settings);

      assertThat(first.location()).matches("s3://floe/warehouse/floe/events-[0-9a-f]{32}");
      assertThat(second.location())
          .matches("s3://floe/warehouse/floe/events-[0-9a-f]{32}")
          .isNotEqualTo(first.location());
      if (client instanceof AutoCloseable c) {
        c.close();
      }
    }
  }
}
