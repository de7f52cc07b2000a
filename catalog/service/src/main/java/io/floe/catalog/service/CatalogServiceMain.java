package io.floe.catalog.service;

import io.floe.common.config.ConfigException;
import io.floe.common.config.Settings;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java io.floe.catalog.service.CatalogServiceMain}: runs the catalog service until SIGTERM. */
public final class CatalogServiceMain {
  private CatalogServiceMain() {}

  public static void main(String[] args) {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
      System.out.println("usage: floe-catalog  (FLOE_SERVICE_PORT, FLOE_CATALOG_URI, FLOE_CATALOG_WAREHOUSE,"
          + " FLOE_CATALOG_S3_ENDPOINT, ...; see README.md)");
      return;
    }
    Logger log = LoggerFactory.getLogger(CatalogServiceMain.class);
    CatalogService service;
    try {
      Settings settings = Settings.fromEnvironment();
      CatalogServiceConfig config = CatalogServiceConfig.load(settings);
      TableSettings table = TableSettings.load(settings);
      service = CatalogService.start(config);
      EventsTable.ensure(service.catalog(), table);
      log.info("table {} ready", EventsTable.identifier(table));
    } catch (ConfigException e) {
      System.err.println("floe-catalog: configuration error: " + e.getMessage());
      System.exit(2);
      return;
    } catch (Exception e) {
      log.error("catalog service failed to start", e);
      System.err.println("floe-catalog: failed to start: " + e.getMessage());
      System.exit(1);
      return;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        service.close();
      } catch (Exception e) {
        log.error("shutdown failed", e);
      }
    }, "floe-shutdown"));
  }
}
