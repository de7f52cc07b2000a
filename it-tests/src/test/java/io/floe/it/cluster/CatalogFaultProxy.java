package io.floe.it.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Between the catalog service and its clients (the nodes, or a table maintenance run elsewhere):
 * forwards everything, but can answer a commit the catalog applied as if it had failed — {@code 409
 * CommitFailedException} (what a catalog answers when a JDBC rerun of its applied update matches no
 * row) or {@code 500} (an answer lost: the outcome is unknown to the client) — or refuse commits
 * without applying them, as a catalog under backpressure does ({@code 503} with {@code
 * Retry-After}, or {@code 409}), while reads still pass.
 */
final class CatalogFaultProxy implements AutoCloseable {
  /** How an applied commit is answered. */
  enum Fault {
    REFUSED,
    LOST
  }

  private record Answer(int status, Buffer body) {}

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient upstream;
  private final HttpServer server;
  private final int upstreamPort;
  private volatile Fault fault;
  private volatile int every;
  private volatile Predicate<String> which = body -> true;
  private final AtomicInteger applied = new AtomicInteger();
  private volatile int readFailuresAfterLoss;
  private final AtomicInteger failReads = new AtomicInteger();
  private volatile int refuseStatus;

  /** Commits turned away unapplied by {@link #refuseCommits}. */
  final AtomicInteger turnedAway = new AtomicInteger();

  /** Applied commits answered as failed, per fault. */
  final AtomicInteger refused = new AtomicInteger();

  final AtomicInteger lost = new AtomicInteger();

  CatalogFaultProxy(int upstreamPort) throws Exception {
    this.upstreamPort = upstreamPort;
    upstream = vertx.createHttpClient();
    server =
        vertx
            .createHttpServer()
            .requestHandler(req -> req.body().onSuccess(body -> forward(req, body)))
            .listen(0, "127.0.0.1")
            .toCompletionStage()
            .toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
  }

  int port() {
    return server.actualPort();
  }

  /**
   * From now on, every {@code every}-th applied commit whose body {@code which} accepts is answered
   * with {@code fault}; {@code every} 0 stops.
   */
  void inject(Fault fault, int every, Predicate<String> which) {
    this.which = which;
    this.fault = fault;
    this.every = every;
  }

  /**
   * After each lost answer, the next {@code reads} table reads fail too ({@code 500}): the client
   * cannot settle the outcome by the read its REST client does at once, only later.
   */
  void failReadsAfterLoss(int reads) {
    this.readFailuresAfterLoss = reads;
  }

  void stop() {
    every = 0;
  }

  /**
   * From now on every commit is answered {@code status} ({@code 503} with {@code Retry-After: 1},
   * or {@code 409 CommitFailedException}) without reaching the catalog; 0 lets them through again.
   */
  void refuseCommits(int status) {
    this.refuseStatus = status;
  }

  private void forward(HttpServerRequest req, Buffer body) {
    boolean commit = req.method() == HttpMethod.POST && req.path().matches(".*/tables/[^/]+");
    if (req.method() == HttpMethod.GET
        && req.path().matches(".*/tables/[^/]+")
        && failReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      failure(req, Fault.LOST);
      return;
    }
    int refuse = refuseStatus;
    if (commit && refuse != 0) {
      turnedAway.incrementAndGet();
      boolean busy = refuse == 503;
      req.response()
          .setStatusCode(refuse)
          .putHeader("Content-Type", "application/json")
          .putHeader("Retry-After", "1")
          .end(
              new JsonObject()
                  .put(
                      "error",
                      new JsonObject()
                          .put("message", "injected: the catalog refuses commits for now")
                          .put(
                              "type",
                              busy ? "ServiceUnavailableException" : "CommitFailedException")
                          .put("code", refuse))
                  .encode());
      return;
    }
    send(req, body)
        .onComplete(
            ar -> {
              if (ar.failed()) {
                req.response().setStatusCode(502).end();
                return;
              }
              int n = every;
              Fault f = fault;
              if (commit
                  && n > 0
                  && ar.result().status() == 200
                  && which.test(body.toString())
                  && applied.incrementAndGet() % n == 0) {
                (f == Fault.REFUSED ? refused : lost).incrementAndGet();
                if (f == Fault.LOST) {
                  failReads.set(readFailuresAfterLoss);
                }
                failure(req, f);
                return;
              }
              req.response()
                  .setStatusCode(ar.result().status())
                  .putHeader("Content-Type", "application/json")
                  .end(ar.result().body());
            });
  }

  private Future<Answer> send(HttpServerRequest req, Buffer body) {
    return upstream
        .request(req.method(), upstreamPort, "127.0.0.1", req.uri())
        .compose(
            out -> {
              req.headers()
                  .forEach(
                      (k, v) -> {
                        if (!k.equalsIgnoreCase("host") && !k.equalsIgnoreCase("content-length")) {
                          out.putHeader(k, v);
                        }
                      });
              return out.send(body);
            })
        .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b)));
  }

  private static void failure(HttpServerRequest req, Fault f) {
    int status = f == Fault.REFUSED ? 409 : 500;
    String type = f == Fault.REFUSED ? "CommitFailedException" : "ServiceFailureException";
    String message =
        f == Fault.REFUSED
            ? "injected: Requirement failed: branch main has changed"
            : "injected: answer lost";
    req.response()
        .setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(
            new JsonObject()
                .put(
                    "error",
                    new JsonObject().put("message", message).put("type", type).put("code", status))
                .encode());
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
