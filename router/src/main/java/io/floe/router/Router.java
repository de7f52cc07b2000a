package io.floe.router;

import io.floe.common.auth.AuthException;
import io.floe.common.auth.Principal;
import io.floe.common.auth.Quotas;
import io.floe.common.auth.Scope;
import io.floe.common.http.JsonResponses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running router: the nodes' ingestion API in front of them, plus its own health, status and
 * metrics. One HTTP server per event loop, sharing the port.
 */
public final class Router implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Router.class);
  private static final Pattern INGEST = Pattern.compile("^/v1/streams/[^/]+/events$");

  /** The receipt of a partition: served by the node that holds it. */
  private static final Pattern RECEIPT = Pattern.compile("^/v1/partitions/(\\d{1,9})/committed$");

  private final Vertx vertx;
  private final RouterConfig config;
  private final Membership membership;
  private final RouterMetrics metrics;
  private final Forwarder forwarder;
  private final Quotas quotas;
  private final List<HttpServer> servers = new ArrayList<>();
  private volatile boolean draining;

  private Router(RouterConfig config) {
    this.config = config;
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops()));
    this.membership = new Membership(vertx, config);
    this.metrics = new RouterMetrics(membership);
    this.quotas = new Quotas(metrics::throttled);
    this.forwarder = new Forwarder(vertx, config, membership, metrics, quotas);
  }

  public static Router start(RouterConfig config) throws Exception {
    Router router = new Router(config);
    router.membership.start();
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(config.host())
            .setPort(config.port())
            .setTcpNoDelay(true)
            .setHttp2ClearTextEnabled(true)
            .setIdleTimeout(120);
    if (config.tls() != null) {
      config.tls().apply(options);
    }
    // the same options on every server: Vert.x shares the socket between them (also for port 0)
    for (int i = 0; i < config.eventLoops(); i++) {
      HttpServer server = router.vertx.createHttpServer(options).requestHandler(router::handle);
      router.servers.add(
          server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
    }
    if (config.tls() != null) {
      config.tls().watch(router.vertx, () -> router.servers);
    }
    if (config.nodeTrust() != null) {
      // a node added or its certificate renewed: trusted for new connections without a restart
      config
          .nodeTrust()
          .watch(
              router.vertx, () -> List.of(router.forwarder.client(), router.membership.checker()));
    }
    LOG.info(
        "router listening on {}:{}{} for nodes {}",
        config.host(),
        router.port(),
        config.tls() != null ? " (TLS)" : "",
        router.membership.all().stream().map(m -> m.id).toList());
    return router;
  }

  public int port() {
    return servers.get(0).actualPort();
  }

  /** Names the producer the router authenticated, for the node (never taken from the client). */
  static final String PRINCIPAL_HEADER = "X-Floe-Principal";

  /**
   * The caller, when it may go on; else null, and 401 (no or unknown token, with WWW-Authenticate)
   * or 403 (lacking what {@code allowed} asks) was answered. The producer's name is put in
   * X-Floe-Principal.
   */
  private Principal authorize(
      HttpServerRequest req, java.util.function.Predicate<Principal> allowed, String refusal) {
    req.headers().remove(PRINCIPAL_HEADER);
    Principal p;
    try {
      p = config.auth().authenticate(req.headers());
    } catch (AuthException e) {
      req.response().putHeader("WWW-Authenticate", "Bearer realm=\"floe\"");
      JsonResponses.error(req.response(), 401, "unauthorized", e.getMessage());
      return null;
    }
    if (!allowed.test(p)) {
      JsonResponses.error(
          req.response(), 403, "forbidden", "the token '" + p.name() + "' " + refusal);
      return null;
    }
    if (config.auth().enabled()) {
      req.headers().set(PRINCIPAL_HEADER, p.name());
    }
    return p;
  }

  /** The authenticated producer's quota: 429 with Retry-After when it is used up. */
  private boolean withinQuota(HttpServerRequest req, Principal p) {
    long wait = quotas.admit(p);
    if (wait > 0) {
      req.response().putHeader("Retry-After", Long.toString(wait));
      JsonResponses.error(
          req.response(),
          429,
          "too_many_requests",
          "the token '"
              + p.name()
              + "' has used its"
              + " quota (events-per-second / bytes-per-second in the token file); retry after "
              + wait
              + " s");
      return false;
    }
    return true;
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (INGEST.matcher(path).matches()) {
      String stream = path.substring("/v1/streams/".length(), path.length() - "/events".length());
      Principal producer =
          authorize(
              req, p -> p.mayIngest(stream), "may not send events to stream '" + stream + "'");
      if (producer == null || !withinQuota(req, producer)) {
        return;
      }
      if (req.method() != HttpMethod.POST) {
        JsonResponses.error(
            req.response(), 405, "method_not_allowed", req.method() + " is not allowed on " + path);
      } else if (draining) {
        req.response().putHeader("Retry-After", "1");
        JsonResponses.error(
            req.response(), 503, "unavailable", "router is shutting down; send to another router");
      } else {
        forwarder.forward(req);
      }
      return;
    }
    java.util.regex.Matcher receipt = RECEIPT.matcher(path);
    if (receipt.matches() && req.method() == HttpMethod.GET) {
      if (authorize(
              req, p -> p.may(Scope.INGEST) || p.may(Scope.READ), "lacks the scope ingest or read")
          == null) {
        return;
      }
      Member node = membership.forPartition(Integer.parseInt(receipt.group(1)));
      if (node == null) {
        JsonResponses.error(
            req.response(), 404, "not_found", "no node reported partition " + receipt.group(1));
      } else {
        forwarder.forwardTo(req, node);
      }
      return;
    }
    switch (path) {
      case "/health/live" -> json(req, 200, new JsonObject().put("status", "live"));
      case "/health/ready" -> {
        int healthy = membership.healthy().size();
        if (healthy > 0 && !draining) {
          json(req, 200, new JsonObject().put("status", "ready").put("healthy_nodes", healthy));
        } else {
          req.response().putHeader("Retry-After", "1");
          json(
              req,
              503,
              new JsonObject()
                  .put("status", "not_ready")
                  .put("reason", draining ? "draining" : "no_healthy_node"));
        }
      }
      case "/metrics" -> {
        if (config.metricsOpen()
            || authorize(req, p -> p.may(Scope.READ), "lacks the scope read") != null) {
          req.response()
              .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
              .end(io.vertx.core.buffer.Buffer.buffer(metrics.scrape()));
        }
      }
      case "/v1/status" -> {
        if (authorize(req, p -> p.may(Scope.READ), "lacks the scope read") == null) {
          return;
        }
        JsonArray nodes = new JsonArray();
        for (Member m : membership.all()) {
          nodes.add(
              new JsonObject()
                  .put("node", m.id)
                  .put("healthy", m.healthy())
                  .put("inflight", m.inflight.get())
                  .put("partition_id", m.partition < 0 ? null : m.partition));
        }
        json(req, 200, new JsonObject().put("nodes", nodes));
      }
      default ->
          JsonResponses.error(
              req.response(), 404, "not_found", "no route for " + req.method() + " " + path);
    }
  }

  private static void json(HttpServerRequest req, int status, JsonObject body) {
    JsonResponses.send(req.response(), status, body);
  }

  /** Stops taking requests, waits for those in flight (up to 10 s), closes. */
  @Override
  public void close() throws Exception {
    draining = true;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (membership.all().stream().anyMatch(m -> m.inflight.get() > 0)
        && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    membership.stop();
    Future.all(servers.stream().map(HttpServer::close).toList())
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
