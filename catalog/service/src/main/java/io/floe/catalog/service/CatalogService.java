package io.floe.catalog.service;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.maintenance.MaintenanceMetrics;
import io.floe.catalog.maintenance.TableMaintenance;
import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.EventsTable;
import io.floe.common.http.ConnectionLimit;
import io.floe.common.http.InvalidRequests;
import io.floe.common.http.JsonResponses;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
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

  /** The events table's maintenance, then the dead-letter table's; empty when off here. */
  private final List<TableMaintenance> maintenance;

  private final VendedCredentials vended;

  private CatalogService(
      Vertx vertx,
      HttpServer server,
      Catalog catalog,
      List<TableMaintenance> maintenance,
      VendedCredentials vended) {
    this.vertx = vertx;
    this.server = server;
    this.catalog = catalog;
    this.maintenance = maintenance;
    this.vended = vended;
  }

  public static CatalogService start(CatalogServiceConfig config) throws Exception {
    Catalog catalog = CatalogConnector.open("floe", config.catalogProperties());
    Vertx vertx = Vertx.vertx();
    List<TableMaintenance> maintenance = new ArrayList<>();
    VendedCredentials vended = null;
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
      CatalogAccess access = new CatalogAccess(config.auth(), config.allowPurge(), catalog);
      ConnectionLimit connections = new ConnectionLimit(config.maxConnections());
      GaugeWithCallback.builder()
          .name("floe_catalog_connections")
          .help("Open HTTP connections")
          .callback(cb -> cb.call(connections.open()))
          .register(registry);
      CounterWithCallback.builder()
          .name("floe_catalog_connections_refused")
          .help("HTTP connections closed at once: service.max-connections reached")
          .callback(cb -> cb.call(connections.refused()))
          .register(registry);
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
      vended = new VendedCredentials(config.clientStorageConfig(), config.vending());
      new RestCatalogRoutes(catalog, vended, access, new CatalogRequests(registry)).mount(router);
      new ColumnRoutes(catalog, EventsTable.identifier(config.table()), access).mount(router);
      new StreamRoutes(catalog, EventsTable.identifier(config.table()), access).mount(router);
      router.route().failureHandler(CatalogService::failed);
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
          new HttpServerOptions()
              .setHost(config.host())
              .setPort(config.port())
              .setIdleTimeout((int) Math.max(1, config.idleTimeout().toSeconds()))
              .setIdleTimeoutUnit(TimeUnit.SECONDS)
              .setTcpNoDelay(true);
      if (config.tls() != null) {
        config.tls().apply(options);
      }
      HttpServer server =
          vertx
              .createHttpServer(options)
              .connectionHandler(connections::accept)
              .invalidRequestHandler(InvalidRequests::answer)
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
        // the dead-letter table gets the same care (tags, expiry, compaction of its closed days of
        // ingest, manifests, orphans), under its own lease; its metrics are
        // floe_dead_letter_maintenance_*, beside the events table's floe_maintenance_*
        TableIdentifier events = EventsTable.identifier(config.table());
        TableIdentifier deadLetters = DeadLetterTable.identifier(config.table());
        maintenance.add(
            new TableMaintenance(
                    () -> catalog.tableExists(events) ? catalog.loadTable(events) : null,
                    config.maintenance(),
                    new MaintenanceMetrics(registry),
                    Clock.systemUTC())
                .start());
        maintenance.add(
            new TableMaintenance(
                    () -> catalog.tableExists(deadLetters) ? catalog.loadTable(deadLetters) : null,
                    config.maintenance(),
                    new MaintenanceMetrics(registry, MaintenanceMetrics.DEAD_LETTER_PREFIX),
                    Clock.systemUTC())
                .start());
      } else {
        LOG.info("table maintenance is off here (maintenance.enabled=false)");
      }
      return new CatalogService(vertx, server, catalog, maintenance, vended);
    } catch (Exception e) {
      for (TableMaintenance m : maintenance) {
        m.close();
      }
      vertx.close();
      if (vended != null) {
        vended.close();
      }
      closeQuietly(catalog);
      throw e;
    }
  }

  /**
   * A request that failed in a handler: an exception as {@link RestErrors} maps it; a status alone
   * (Vert.x's 413 for a body over the limit) with its own answer. The columns API answers Floe's
   * JSON error, the REST API the Iceberg error object. A body not read to its end is not read on:
   * the answer closes the connection (HTTP/1.x).
   */
  private static void failed(RoutingContext ctx) {
    CatalogAccess.closeIfBodyUnread(ctx);
    if (ctx.failure() != null) {
      RestErrors.send(ctx, ctx.failure());
      return;
    }
    int status = ctx.statusCode() > 0 ? ctx.statusCode() : 500;
    String detail =
        status == 413
            ? "the request body is over the limit ("
                + (floeApi(ctx) ? ColumnRoutes.MAX_BODY_BYTES : RestCatalogRoutes.MAX_BODY_BYTES)
                + " bytes)"
            : "request failed with status " + status;
    if (floeApi(ctx)) {
      JsonResponses.error(ctx.response(), status, status == 413 ? "too_large" : "failed", detail);
    } else {
      RestErrors.send(
          ctx, status, status == 413 ? "RequestTooLargeException" : "RESTException", detail);
    }
  }

  /** Floe's own API (columns, streams), which answers Floe's JSON errors. */
  private static boolean floeApi(RoutingContext ctx) {
    String path = ctx.request().path();
    return path.startsWith(ColumnRoutes.ROOT) || path.startsWith(StreamRoutes.ROOT);
  }

  public int port() {
    return server.actualPort();
  }

  public Catalog catalog() {
    return catalog;
  }

  @Override
  public void close() throws Exception {
    for (TableMaintenance m : maintenance) {
      m.close();
    }
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    } finally {
      vended.close();
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
