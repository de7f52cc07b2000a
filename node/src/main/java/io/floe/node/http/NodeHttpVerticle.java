package io.floe.node.http;

import io.floe.node.metrics.NodeMetrics;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

/**
 * One HTTP server instance (one per event loop; Vert.x balances connections over them). Owns
 * only its router; the handlers are shared and thread-safe.
 */
public final class NodeHttpVerticle extends AbstractVerticle {
  private final String host;
  private final int port;
  private final IngestHandler ingest;
  private final OpsHandler ops;
  private final BearerAuth auth;
  private final ErrorResponses errors;
  private final NodeMetrics metrics;
  private HttpServer server;

  public NodeHttpVerticle(
      String host,
      int port,
      IngestHandler ingest,
      OpsHandler ops,
      BearerAuth auth,
      ErrorResponses errors,
      NodeMetrics metrics) {
    this.host = host;
    this.port = port;
    this.ingest = ingest;
    this.ops = ops;
    this.auth = auth;
    this.errors = errors;
    this.metrics = metrics;
  }

  @Override
  public void start(Promise<Void> started) {
    Router router = Router.router(vertx);
    router.route().handler(this::timed);
    router.post("/v1/streams/:stream/events")
        .handler(auth)
        .handler(ingest::admit)
        .handler(ingest::ingest);
    router.get("/health/live").handler(ops::live);
    router.get("/health/ready").handler(ops::ready);
    router.get("/metrics").handler(ops::metrics);
    router.get("/v1/status").handler(auth).handler(ops::status);
    router.post("/v1/flush").handler(auth).handler(ops::flush);
    router.route().failureHandler(errors::handleFailure);
    router.errorHandler(404, errors::handleFailure);
    router.errorHandler(405, errors::handleFailure);

    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(host)
            .setPort(port)
            .setTcpNoDelay(true)
            .setHttp2ClearTextEnabled(true)
            .setCompressionSupported(false)
            .setDecompressionSupported(false);
    vertx.createHttpServer(options)
        .requestHandler(router)
        .listen()
        .onSuccess(s -> {
          server = s;
          started.complete();
        })
        .onFailure(started::fail);
  }

  /** The port actually bound (differs from the configured one when that was 0). */
  public int actualPort() {
    return server.actualPort();
  }

  private void timed(RoutingContext ctx) {
    long start = System.nanoTime();
    String route = ctx.request().path().startsWith("/v1/streams/") ? "ingest" : "ops";
    ctx.addEndHandler(v -> metrics.answered(route, ctx.response().getStatusCode(), System.nanoTime() - start));
    ctx.next();
  }
}
