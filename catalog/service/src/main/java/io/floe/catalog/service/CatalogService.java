package io.floe.catalog.service;

import io.floe.catalog.connect.CatalogConnector;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.catalog.Catalog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Floe's catalog service: the Iceberg REST catalog API over a JDBC catalog (SQLite file by
 * default, PostgreSQL in AWS), handing clients the storage settings they need so that Spark or
 * Trino need nothing but its URI.
 */
public final class CatalogService implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CatalogService.class);

  private final Vertx vertx;
  private final HttpServer server;
  private final Catalog catalog;

  private CatalogService(Vertx vertx, HttpServer server, Catalog catalog) {
    this.vertx = vertx;
    this.server = server;
    this.catalog = catalog;
  }

  public static CatalogService start(CatalogServiceConfig config) throws Exception {
    Catalog catalog = CatalogConnector.open("floe", config.catalogProperties());
    Vertx vertx = Vertx.vertx();
    try {
      Router router = Router.router(vertx);
      router.get("/health/live").handler(ctx -> ctx.json(new JsonObject().put("status", "live")));
      router.get("/health/ready").handler(ctx -> ctx.json(new JsonObject().put("status", "ready")));
      new RestCatalogRoutes(catalog, config.clientStorageConfig(),
          new CatalogAccess(config.auth(), config.allowPurge())).mount(router);
      router.route().failureHandler(ctx -> RestErrors.send(ctx,
          ctx.failure() != null ? ctx.failure() : new IllegalStateException("status " + ctx.statusCode())));
      router.route().last().handler(ctx -> RestErrors.send(ctx, 404, "NoSuchEndpoint",
          "no route for " + ctx.request().method() + " " + ctx.request().path()));
      HttpServerOptions options = new HttpServerOptions().setHost(config.host()).setPort(config.port())
          .setTcpNoDelay(true);
      if (config.tls() != null) {
        config.tls().apply(options);
      }
      HttpServer server = vertx.createHttpServer(options)
          .requestHandler(router)
          .listen()
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      if (config.tls() != null) {
        config.tls().watch(vertx, () -> java.util.List.of(server));
      }
      LOG.info("catalog service listening on {}:{} over {} (warehouse {})", config.host(), server.actualPort(),
          config.catalogProperties().get("uri"), config.catalogProperties().get("warehouse"));
      return new CatalogService(vertx, server, catalog);
    } catch (Exception e) {
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
