package io.floe.router;

import io.floe.common.auth.AuthException;
import io.floe.common.auth.Principal;
import io.floe.common.auth.Quotas;
import io.floe.common.auth.Scope;
import io.floe.common.http.FloeHttp;
import io.floe.common.http.InvalidRequests;
import io.floe.common.http.JsonResponses;
import io.floe.common.http.Refusals;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running router: the nodes' ingestion API in front of them, plus its own health, status and
 * metrics. One HTTP server per event loop, sharing the port.
 */
public final class Router implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Router.class);

  /** The receipt of a partition: served by the node that holds it. */
  private static final Pattern RECEIPT =
      Pattern.compile(
          Pattern.quote(FloeHttp.PARTITIONS_PATH)
              + "(\\d{1,9})"
              + Pattern.quote(FloeHttp.COMMITTED_PATH));

  /** A client connection that sends and gets nothing for this long is closed. */
  static final int IDLE_TIMEOUT_SECONDS = 120;

  /** The largest piece of a request body the router reads, and writes to the node, at once. */
  static final int BODY_CHUNK_BYTES = 64 * 1024;

  private final Vertx vertx;
  private final RouterConfig config;
  private final Membership membership;
  private final RouterMetrics metrics;
  private final Forwarder forwarder;
  private final Quotas quotas;
  private final ClusterSampler sampler;
  private final DeadLetterFanOut deadLetters;
  private final ConsoleAssets console = new ConsoleAssets();
  private final List<HttpServer> servers = new ArrayList<>();

  /** The private listener of {@code router.metrics-port}, or null. */
  private HttpServer metricsServer;

  private volatile boolean draining;

  private Router(RouterConfig config) {
    this.config = config;
    this.vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(config.eventLoops()));
    this.membership = new Membership(vertx, config);
    this.metrics = new RouterMetrics(membership);
    this.quotas = new Quotas(config.maxConcurrentPerToken(), metrics::throttled);
    this.forwarder = new Forwarder(vertx, config, membership, metrics);
    this.sampler = new ClusterSampler(vertx, config, membership, metrics.streams());
    this.deadLetters = new DeadLetterFanOut(vertx, forwarder.client(), membership, metrics, config);
  }

  public static Router start(RouterConfig config) throws Exception {
    Router router = new Router(config);
    router.membership.start();
    router.sampler.start();
    HttpServerOptions options =
        new HttpServerOptions()
            .setHost(config.host())
            .setPort(config.port())
            .setTcpNoDelay(true)
            // a body goes on to the node in as few writes as it came in reads (Netty reads up to
            // 64 KiB at a time): with Vert.x's default of 8 KiB pieces a 100 KB body was ~13 writes
            // to the node, each flushed on its own
            .setMaxChunkSize(BODY_CHUNK_BYTES)
            .setHttp2ClearTextEnabled(true)
            .setIdleTimeout(IDLE_TIMEOUT_SECONDS);
    if (config.tls() != null) {
      config.tls().apply(options);
    }
    // the same options on every server: Vert.x shares the socket between them (also for port 0)
    for (int i = 0; i < config.eventLoops(); i++) {
      HttpServer server =
          router
              .vertx
              .createHttpServer(options)
              .invalidRequestHandler(InvalidRequests::answer)
              .requestHandler(router::handle);
      router.servers.add(
          server.listen().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
    }
    if (config.tls() != null) {
      config.tls().watch(router.vertx, () -> router.servers);
    }
    if (config.metricsPort() >= 0) {
      router.metricsServer =
          router
              .vertx
              .createHttpServer(
                  new HttpServerOptions()
                      .setHost(config.metricsHost())
                      .setPort(config.metricsPort())
                      .setIdleTimeout(120))
              .invalidRequestHandler(InvalidRequests::answer)
              .requestHandler(router::handlePrivate)
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      LOG.info(
          "router metrics on {}:{} without a token ({})",
          config.metricsHost(),
          router.metricsPort(),
          RouterConfig.METRICS_PORT);
    }
    if (config.nodeTrust() != null) {
      // a node added or its certificate renewed: trusted for new connections without a restart
      config
          .nodeTrust()
          .watch(
              router.vertx,
              () ->
                  List.of(
                      router.forwarder.client(),
                      router.membership.checker(),
                      router.sampler.client()));
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

  /** The port of the private metrics listener, or -1 when there is none. */
  public int metricsPort() {
    return metricsServer == null ? -1 : metricsServer.actualPort();
  }

  /** The private metrics listener: {@code GET /metrics} without a token, nothing else. */
  private void handlePrivate(HttpServerRequest req) {
    if (req.path().equals("/metrics") && req.method() == HttpMethod.GET) {
      scrape(req);
    } else {
      JsonResponses.error(
          req.response(),
          404,
          "not_found",
          "this listener (" + RouterConfig.METRICS_PORT + ") serves GET /metrics only");
    }
  }

  private void scrape(HttpServerRequest req) {
    req.response()
        .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        .end(Buffer.buffer(metrics.scrape()));
  }

  /**
   * The caller, when it may go on; else null, and its refusal was answered ({@link Refusals}): 401
   * for no or an unknown token, 403 when {@code refusal} refuses it. The producer's name is put in
   * {@link FloeHttp#PRINCIPAL_HEADER} (never taken from the client) for the node.
   */
  private Principal authorize(HttpServerRequest req, Function<Principal, AuthException> refusal) {
    req.headers().remove(FloeHttp.PRINCIPAL_HEADER);
    try {
      Principal p = config.auth().authenticate(req.headers());
      AuthException refused = refusal.apply(p);
      if (refused != null) {
        throw refused;
      }
      if (config.auth().enabled()) {
        req.headers().set(FloeHttp.PRINCIPAL_HEADER, p.name());
      }
      return p;
    } catch (AuthException e) {
      Refusals.send(req.response(), e);
      return null;
    }
  }

  /** The refusal of a caller without any of {@code scopes}, or null. */
  private static Function<Principal, AuthException> needs(Scope... scopes) {
    return p -> {
      for (Scope s : scopes) {
        if (p.may(s)) {
          return null;
        }
      }
      return AuthException.lacking(p, scopes);
    };
  }

  /**
   * Lets the authenticated producer's request in within its quotas ({@link Quotas}), or answers 429
   * with Retry-After and returns null. The admission ends with the response, or with the
   * connection, whichever comes first, charged with the body bytes the router read; an answered
   * request counts in its stream's traffic ({@link StreamTraffic}).
   */
  private Quotas.Admission admit(HttpServerRequest req, Principal p, String stream) {
    StreamTraffic traffic = metrics.streams();
    Quotas.Admission admission;
    try {
      admission = quotas.admit(p, FloeHttp.declaredLength(req));
    } catch (AuthException e) {
      Refusals.send(req.response(), e);
      traffic.answered(stream, e.status(), 0);
      return null;
    }
    HttpServerResponse response = req.response();
    response.endHandler(
        v -> {
          admission.end(req.bytesRead());
          traffic.answered(stream, response.getStatusCode(), req.bytesRead());
        });
    response.closeHandler(v -> admission.end(req.bytesRead()));
    return admission;
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    String stream = FloeHttp.ingestStream(path);
    if (stream != null) {
      Principal producer =
          authorize(
              req,
              p ->
                  p.mayIngest(stream)
                      ? null
                      : AuthException.forbidden(
                          p, "may not send events to stream '" + stream + "'"));
      if (producer == null) {
        return;
      }
      Quotas.Admission admission = admit(req, producer, stream);
      if (admission == null) {
        return;
      }
      if (req.method() != HttpMethod.POST) {
        JsonResponses.error(
            req.response(), 405, "method_not_allowed", req.method() + " is not allowed on " + path);
      } else if (draining) {
        JsonResponses.error(
            req.response(),
            503,
            "unavailable",
            "router is shutting down; send to another router",
            1);
      } else {
        forwarder.forward(req, admission);
      }
      return;
    }
    Matcher receipt = RECEIPT.matcher(path);
    if (receipt.matches() && req.method() == HttpMethod.GET) {
      if (authorize(req, needs(Scope.INGEST, Scope.READ)) == null) {
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
    if (path.equals(DeadLetterFanOut.ROOT) || path.equals(DeadLetterFanOut.REPLAY)) {
      deadLetters(req, path);
      return;
    }
    if (ConsoleAssets.owns(path)) {
      console.serve(req);
      return;
    }
    switch (path) {
      case "/health/live" -> json(req, 200, new JsonObject().put("status", "live"));
      case "/health/ready" -> {
        int healthy = membership.healthy().size();
        if (healthy > 0 && !draining) {
          json(req, 200, new JsonObject().put("status", "ready").put("healthy_nodes", healthy));
        } else {
          req.response().putHeader(FloeHttp.RETRY_AFTER, "1");
          json(
              req,
              503,
              new JsonObject()
                  .put("status", "not_ready")
                  .put("reason", draining ? "draining" : "no_healthy_node"));
        }
      }
      case "/metrics" -> {
        if (config.metricsOpen() || authorize(req, needs(Scope.READ)) != null) {
          scrape(req);
        }
      }
      case "/v1/status" -> {
        if (authorize(req, needs(Scope.READ)) == null) {
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
      case "/v1/cluster" -> {
        if (authorize(req, needs(Scope.READ)) == null) {
          return;
        }
        req.response().putHeader("Cache-Control", "no-store");
        JsonResponses.send(req.response(), 200, sampler.answer());
      }
      default ->
          JsonResponses.error(
              req.response(), 404, "not_found", "no route for " + req.method() + " " + path);
    }
  }

  /**
   * The dead-letter API, asked of every node ({@link DeadLetterFanOut}): the list needs {@code
   * read}, a replay {@code admin}, checked here as the nodes check them; the nodes check the
   * caller's own token again.
   */
  private void deadLetters(HttpServerRequest req, String path) {
    boolean list = path.equals(DeadLetterFanOut.ROOT);
    HttpMethod allowed = list ? HttpMethod.GET : HttpMethod.POST;
    if (req.method() != allowed) {
      JsonResponses.error(
          req.response(),
          405,
          "method_not_allowed",
          req.method() + " is not allowed on " + path + " (" + allowed + " is)");
      return;
    }
    Principal caller = authorize(req, needs(list ? Scope.READ : Scope.ADMIN));
    if (caller == null) {
      return;
    }
    if (draining) {
      JsonResponses.error(
          req.response(), 503, "unavailable", "router is shutting down; ask another router", 1);
    } else if (list) {
      deadLetters.list(req);
    } else {
      deadLetters.replay(req, String.valueOf(caller.name()));
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
    sampler.stop();
    membership.stop();
    List<HttpServer> all = new ArrayList<>(servers);
    if (metricsServer != null) {
      all.add(metricsServer);
    }
    Future.all(all.stream().map(HttpServer::close).toList())
        .toCompletionStage()
        .toCompletableFuture()
        .get(10, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
