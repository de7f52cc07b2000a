package io.floe.catalog.service;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.common.lifecycle.ServiceMain;
import org.slf4j.LoggerFactory;

/**
 * {@code java io.floe.catalog.service.CatalogServiceMain}: runs the catalog service until SIGTERM.
 */
public final class CatalogServiceMain {
  private CatalogServiceMain() {}

  public static void main(String[] args) {
    ServiceMain.run(
        "floe-catalog",
        "(FLOE_SERVICE_PORT, FLOE_CATALOG_URI, FLOE_CATALOG_WAREHOUSE,"
            + " FLOE_CATALOG_S3_ENDPOINT, ... or FLOE_CONFIG_FILE; see docs/configuration.md)",
        args,
        settings -> {
          CatalogServiceConfig config = CatalogServiceConfig.load(settings);
          TableSettings table = TableSettings.load(settings);
          CatalogService service = CatalogService.start(config);
          try {
            EventsTable.ensure(service.catalog(), table);
          } catch (RuntimeException e) {
            service.close();
            throw e;
          }
          LoggerFactory.getLogger(CatalogServiceMain.class)
              .info("table {} ready", EventsTable.identifier(table));
          return service;
        });
  }
}
