package io.floe.node.http;

import io.floe.common.auth.Scope;
import io.floe.common.http.ConnectionLimit;
import io.floe.common.http.FloeHttp;
import io.floe.common.http.InvalidRequests;
import io.floe.common.tls.ServerTls;
import io.floe.node.commit.HandoverWire;
import io.floe.node.metrics.NodeMetrics;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.Promise;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One HTTP server instance (one per event loop; Vert.x balances connections over them). Owns only
 * its router; the handlers are shared and thread-safe.
 */
public final class NodeHttpVerticle extends AbstractVerticle {
  /** Where and how to listen; {@code tls} is null for plaintext. */
  public record Listen(String host, int port, Duration idleTimeout, ServerTls tls) {}

  private final Listen listen;
  private final ConnectionLimit connections;
  private final IngestHandler ingest;
  private final OpsHandler ops;
  private final DeadLetterHandler deadLetters;
  private final HandoverHandler handover;
  private final ScopedAuth auth;
  private final ErrorResponses errors;
  private final NodeMetrics metrics;
  private HttpServer server;
  private EventLoopProbe probe;

  public NodeHttpVerticle(
      Listen listen,
      ConnectionLimit connections,
      IngestHandler ingest,
      OpsHandler ops,
      DeadLetterHandler deadLetters,
      HandoverHandler handover,
      ScopedAuth auth,
      ErrorResponses errors,
      NodeMetrics metrics) {
    this.listen = listen;
    this.connections = connections;
    this.ingest = ingest;
    this.ops = ops;
    this.deadLetters = deadLetters;
    this.handover = handover;
    this.auth = auth;
    this.errors = errors;
    this.metrics = metrics;
  }

  @Override
  public void start(Promise<Void> started) {
    Router router = Router.router(vertx);
    router.route().handler(this::timed);
    router
        .post(FloeHttp.STREAMS_PATH + ":stream" + FloeHttp.EVENTS_PATH)
        .handler(auth.ingest())
        .handler(ingest::admit)
        .handler(ingest::ingest);
    router.get("/health/live").handler(ops::live);
    router.get("/health/ready").handler(ops::ready);
    router.get("/metrics").handler(auth.metrics()).handler(ops::metrics);
    router.get("/v1/status").handler(auth.read()).handler(ops::status);
    router.post("/v1/flush").handler(auth.require(Scope.ADMIN)).handler(ops::flush);
    router
        .get(FloeHttp.PARTITIONS_PATH + ":partition" + FloeHttp.COMMITTED_PATH)
        .handler(auth.receipts())
        .handler(ops::committed);
    router.get(DeadLetterHandler.ROOT).handler(auth.require(Scope.READ)).handler(deadLetters::list);
    router
        .post(DeadLetterHandler.ROOT + "/replay")
        .handler(auth.require(Scope.ADMIN))
        .handler(deadLetters::replay);
    router.post(HandoverWire.PATH).handler(auth.require(Scope.CLUSTER)).handler(handover::handle);
    router
        .get(HandoverWire.VIEW_PATH)
        .handler(auth.require(Scope.CLUSTER))
        .handler(handover::handleView);
    router.route().failureHandler(errors::handleFailure);
    router.errorHandler(404, errors::handleFailure);
    router.errorHandler(405, errors::handleFailure);

    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(listen.host())
            .setPort(listen.port())
            .setIdleTimeout((int) Math.max(1, listen.idleTimeout().toSeconds()))
            .setIdleTimeoutUnit(TimeUnit.SECONDS)
            .setTcpNoDelay(true)
            .setHttp2ClearTextEnabled(true)
            .setCompressionSupported(false)
            .setDecompressionSupported(false);
    if (listen.tls() != null) {
      listen.tls().apply(options);
    }
    vertx
        .createHttpServer(options)
        .connectionHandler(connections::accept)
        .invalidRequestHandler(InvalidRequests::answer)
        .requestHandler(router)
        .listen()
        .onSuccess(
            s -> {
              server = s;
              if (listen.tls() != null) {
                listen.tls().watch(vertx, () -> List.of(s));
              }
              probe = EventLoopProbe.start(vertx, metrics::eventLoopDelayed);
              started.complete();
            })
        .onFailure(started::fail);
  }

  @Override
  public void stop() {
    if (probe != null) {
      probe.stop();
    }
  }

  /** The port actually bound (differs from the configured one when that was 0). */
  public int actualPort() {
    return server.actualPort();
  }

  private void timed(RoutingContext ctx) {
    long start = System.nanoTime();
    String path = ctx.request().path();
    String route =
        path.startsWith(FloeHttp.STREAMS_PATH)
            ? "ingest"
            : path.equals(HandoverWire.PATH)
                ? "handover"
                : path.equals(HandoverWire.VIEW_PATH) ? "table_view" : "ops";
    ctx.addEndHandler(
        v -> metrics.answered(route, ctx.response().getStatusCode(), System.nanoTime() - start));
    ctx.next();
  }
}
