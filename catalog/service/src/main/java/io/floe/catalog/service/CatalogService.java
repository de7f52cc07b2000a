package io.floe.catalog.service;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.maintenance.MaintenanceMetrics;
import io.floe.catalog.maintenance.TableMaintenance;
import io.floe.catalog.table.EventsTable;
import io.floe.common.http.JsonResponses;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Floe's catalog service: the Iceberg REST catalog API over a JDBC catalog (SQLite file by default,
 * PostgreSQL in AWS), handing clients the storage settings they need so that Spark or Trino need
 * nothing but its URI.
 */
public final class CatalogService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogService.class);

  private final Vertx vertx;
  private final HttpServer server;
  private final Catalog catalog;
  private final TableMaintenance maintenance;

  private CatalogService(
      Vertx vertx, HttpServer server, Catalog catalog, TableMaintenance maintenance) {
    this.vertx = vertx;
    this.server = server;
    this.catalog = catalog;
    this.maintenance = maintenance;
  }

  public static CatalogService start(CatalogServiceConfig config) throws Exception {
    Catalog catalog = CatalogConnector.open("floe", config.catalogProperties());
    Vertx vertx = Vertx.vertx();
    TableMaintenance maintenance = null;
    try {
      PrometheusRegistry registry = new PrometheusRegistry();
      JvmMetrics.builder().register(registry);
      Router router = Router.router(vertx);
      router
          .get("/health/live")
          .handler(
              ctx ->
                  JsonResponses.send(ctx.response(), 200, new JsonObject().put("status", "live")));
      router
          .get("/health/ready")
          .handler(
              ctx ->
                  JsonResponses.send(ctx.response(), 200, new JsonObject().put("status", "ready")));
      CatalogAccess access = new CatalogAccess(config.auth(), config.allowPurge());
      router
          .get("/metrics")
          .handler(access.metrics(config.metricsOpen()))
          .handler(
              ctx -> {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try {
                  new PrometheusTextFormatWriter(false).write(out, registry.scrape());
                } catch (IOException e) {
                  ctx.fail(e);
                  return;
                }
                ctx.response()
                    .putHeader("Content-Type", PrometheusTextFormatWriter.CONTENT_TYPE)
                    .end(Buffer.buffer(out.toByteArray()));
              });
      new RestCatalogRoutes(catalog, config.clientStorageConfig(), access).mount(router);
      new ColumnRoutes(catalog, EventsTable.identifier(config.table()), access).mount(router);
      router
          .route()
          .failureHandler(
              ctx ->
                  RestErrors.send(
                      ctx,
                      ctx.failure() != null
                          ? ctx.failure()
                          : new IllegalStateException("status " + ctx.statusCode())));
      router
          .route()
          .last()
          .handler(
              ctx ->
                  RestErrors.send(
                      ctx,
                      404,
                      "NoSuchEndpoint",
                      "no route for " + ctx.request().method() + " " + ctx.request().path()));
      HttpServerOptions options =
          new HttpServerOptions().setHost(config.host()).setPort(config.port()).setTcpNoDelay(true);
      if (config.tls() != null) {
        config.tls().apply(options);
      }
      HttpServer server =
          vertx
              .createHttpServer(options)
              .requestHandler(router)
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      if (config.tls() != null) {
        config.tls().watch(vertx, () -> List.of(server));
      }
      LOG.info(
          "catalog service listening on {}:{} over {} (warehouse {})",
          config.host(),
          server.actualPort(),
          config.catalogProperties().get("uri"),
          config.catalogProperties().get("warehouse"));
      if (config.maintenance() != null) {
        TableIdentifier id = EventsTable.identifier(config.table());
        maintenance =
            new TableMaintenance(
                    () -> catalog.tableExists(id) ? catalog.loadTable(id) : null,
                    config.maintenance(),
                    new MaintenanceMetrics(registry),
                    Clock.systemUTC())
                .start();
      } else {
        LOG.info("table maintenance is off here (maintenance.enabled=false)");
      }
      return new CatalogService(vertx, server, catalog, maintenance);
    } catch (Exception e) {
      if (maintenance != null) {
        maintenance.close();
      }
      vertx.close();
      closeQuietly(catalog);
      throw e;
    }
  }

  public int port() {
    return server.actualPort();
  }

  public Catalog catalog() {
    return catalog;
  }

  @Override
  public void close() throws Exception {
    if (maintenance != null) {
      maintenance.close();
    }
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } finally {
      closeQuietly(catalog);
    }
  }

  private static void closeQuietly(Catalog catalog) {
    if (catalog instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing the backing catalog failed", e);
      }
    }
  }
}
