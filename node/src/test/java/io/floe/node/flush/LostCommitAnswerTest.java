package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.floe.node.process.NodeProcess;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog applies a flush's commit but its answer never reaches the node (here: a 500 after the
 * commit went through, and the refresh that would tell fails too). The node must recognise its own
 * commit when it retries, not take it for another process's and stop for good; every acknowledged
 * event lands exactly once.
 */
class LostCommitAnswerTest {
  @TempDir Path tmp;

  private record Answer(int status, Buffer body) {}

  private static final int READ_FAILURES = 8;

  /** Between the node and the catalog service: forwards everything, but can lose commit answers. */
  private static final class LossyCatalogProxy implements AutoCloseable {
    private final Vertx vertx = Vertx.vertx();
    private final HttpClient upstream;
    private final HttpServer server;
    final AtomicInteger loseCommitAnswers = new AtomicInteger();

    /** Commits to forward, then answer 409 as if the catalog had refused them. */
    final AtomicInteger refuseAppliedCommits = new AtomicInteger();

    /** Commits whose connection to reset, forwarding them later ({@link #delay}). */
    final AtomicInteger resetCommits = new AtomicInteger();

    /** Completes once the delayed commit has been forwarded (accessed on the event loop only). */
    private Future<Void> delayed;

    private final AtomicInteger failReads = new AtomicInteger();

    /** How many reads fail after an answer is lost. */
    volatile int readFailuresAfterLoss = READ_FAILURES;

    final AtomicInteger commitsApplied = new AtomicInteger();

    LossyCatalogProxy(int upstreamPort) throws Exception {
      upstream = vertx.createHttpClient();
      server =
          vertx
              .createHttpServer()
              .requestHandler(req -> req.body().onSuccess(body -> forward(req, body, upstreamPort)))
              .listen(0, "127.0.0.1")
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
    }

    int port() {
      return server.actualPort();
    }

    private void forward(HttpServerRequest req, Buffer body, int upstreamPort) {
      boolean commit = req.method() == HttpMethod.POST && req.path().endsWith("/tables/events");
      if (req.method() == HttpMethod.GET && failReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        serviceFailure(req);
        return;
      }
      if (commit && resetCommits.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        delay(req, body, upstreamPort);
        return;
      }
      if (commit && delayed != null) {
        // a later commit reaches the catalog only after the delayed one
        delayed.onComplete(done -> forward(req, body, upstreamPort));
        delayed = null;
        return;
      }
      send(req, body, upstreamPort)
          .onComplete(
              ar -> {
                if (ar.failed()) {
                  req.response().setStatusCode(502).end();
                  return;
                }
                if (commit && loseCommitAnswers.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                  commitsApplied.incrementAndGet();
                  // the reads that would tell the outcome fail too, beyond the REST client's own
                  // retries
                  failReads.set(readFailuresAfterLoss);
                  serviceFailure(req);
                  return;
                }
                if (commit
                    && ar.result().status() == 200
                    && refuseAppliedCommits.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                  commitsApplied.incrementAndGet();
                  refused(req);
                  return;
                }
                req.response()
                    .setStatusCode(ar.result().status())
                    .putHeader("Content-Type", "application/json")
                    .end(ar.result().body());
              });
    }

    /**
     * Resets the node's connection without an answer, and forwards its request to the catalog 2 s
     * later, or as soon as the node's next commit arrives: the catalog works on it after the node
     * has given up on it.
     */
    private void delay(HttpServerRequest req, Buffer body, int upstreamPort) {
      Promise<Void> forwarded = Promise.promise();
      delayed = forwarded.future();
      req.connection().close();
      vertx.setTimer(
          2000,
          t ->
              send(req, body, upstreamPort)
                  .onComplete(
                      ar -> {
                        if (ar.succeeded() && ar.result().status() == 200) {
                          commitsApplied.incrementAndGet();
                        }
                        forwarded.complete();
                      }));
    }

    private Future<Answer> send(HttpServerRequest req, Buffer body, int upstreamPort) {
      return upstream
          .request(req.method(), upstreamPort, "127.0.0.1", req.uri())
          .compose(
              out -> {
                req.headers()
                    .forEach(
                        (k, v) -> {
                          if (!k.equalsIgnoreCase("host")
                              && !k.equalsIgnoreCase("content-length")) {
                            out.putHeader(k, v);
                          }
                        });
                return out.send(body);
              })
          .compose(resp -> resp.body().map(b -> new Answer(resp.statusCode(), b)));
    }

    private static void serviceFailure(HttpServerRequest req) {
      req.response()
          .setStatusCode(500)
          .putHeader("Content-Type", "application/json")
          .end(
              new JsonObject()
                  .put(
                      "error",
                      new JsonObject()
                          .put("message", "injected: answer lost")
                          .put("type", "ServiceFailureException")
                          .put("code", 500))
                  .encode());
    }

    /** What the service answers when a JDBC rerun of an applied update matches no row. */
    private static void refused(HttpServerRequest req) {
      req.response()
          .setStatusCode(409)
          .putHeader("Content-Type", "application/json")
          .end(
              new JsonObject()
                  .put(
                      "error",
                      new JsonObject()
                          .put("message", "injected: Requirement failed: branch main has changed")
                          .put("type", "CommitFailedException")
                          .put("code", 409))
                  .encode());
    }

    @Override
    public void close() throws Exception {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aCommitWhoseAnswerIsLostIsRecognisedAsOursAndNothingIsDuplicated() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        LossyCatalogProxy proxy = new LossyCatalogProxy(env.service.port())) {
      Map<String, String> s = behind(env, proxy);
      try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
        Ingest ingest = new Ingest();
        sendFive(ingest, node.port(), "lost", "first");
        proxy.loseCommitAnswers.set(1);
        HttpResponse<String> failed = ingest.post(node.port(), "/v1/flush");
        assertThat(failed.statusCode()).as(failed.body()).isEqualTo(503);
        assertThat(proxy.commitsApplied).as("the catalog applied the commit").hasValue(1);

        sendFive(ingest, node.port(), "lost", "second");
        long hwm = node.buffer().highWaterMark();
        HttpResponse<String> flushed = ingest.flushUntilCommitted(node.port());
        assertThat(flushed.statusCode()).as(flushed.body()).isEqualTo(200);
        assertThat(new JsonObject(flushed.body()).getLong("committed_sequence")).isEqualTo(hwm);
        assertThat(ingest.get(node.port(), "/health/ready").statusCode())
            .as("not fenced")
            .isEqualTo(200);
        Ingest.assertExactly(env.rows(), 2, ingest.acknowledged);
      }
    }
  }

  /**
   * The catalog applies a flush's commit but answers 409, as the service does when PostgreSQL
   * commits the update, the connection drops and the pool's rerun matches no row. Iceberg treats a
   * 409 as a failure whose files it may delete; the snapshot that landed must keep its manifests,
   * the table stay readable with every acknowledged event once, and the next flush commit.
   */
  @Test
  void aCommitAnsweredConflictAfterItWasAppliedKeepsItsFilesAndLandsOnce() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        LossyCatalogProxy proxy = new LossyCatalogProxy(env.service.port())) {
      Map<String, String> s = behind(env, proxy);
      try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
        Ingest ingest = new Ingest();
        sendFive(ingest, node.port(), "refused", "first");
        proxy.refuseAppliedCommits.set(1);
        HttpResponse<String> first = ingest.flushUntilCommitted(node.port());
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(proxy.commitsApplied).as("the catalog applied the commit").hasValue(1);
        assertThat(env.missingFiles()).as("files of the current snapshot that are gone").isEmpty();
        Ingest.assertExactly(env.rows(), 2, ingest.acknowledged);

        sendFive(ingest, node.port(), "refused", "second");
        long hwm = node.buffer().highWaterMark();
        HttpResponse<String> next = ingest.flushUntilCommitted(node.port());
        assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
        assertThat(new JsonObject(next.body()).getLong("committed_sequence")).isEqualTo(hwm);
        assertThat(ingest.get(node.port(), "/health/ready").statusCode())
            .as("not fenced")
            .isEqualTo(200);
        assertThat(env.missingFiles()).isEmpty();
        Ingest.assertExactly(env.rows(), 2, ingest.acknowledged);
      }
    }
  }

  /**
   * A node restarts with events it acknowledged and never flushed; the catalog applies its claim
   * but the answer is lost. On its next try the node finds the partition claimed above the epoch
   * its buffer recorded: that claim is its own, so nothing needs salvage. It becomes ready and
   * every acknowledged event lands once.
   */
  @Test
  void aClaimWhoseAnswerIsLostAtRestartIsRecognisedAsOurs() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        LossyCatalogProxy proxy = new LossyCatalogProxy(env.service.port())) {
      Path dir = tmp.resolve("node");
      Map<String, String> nodeEnv = new HashMap<>(env.nodeEnv(2, dir));
      nodeEnv.put("FLOE_CATALOG_URI", "http://127.0.0.1:" + proxy.port());
      nodeEnv.put("FLOE_COLUMNS_REFRESH_SECONDS", "3600");
      Ingest ingest = new Ingest();
      try (NodeProcess first = NodeProcess.start(dir, tmp.resolve("first.log"), nodeEnv)) {
        for (int i = 0; i < 3; i++) {
          assertThat(ingest.send(first.port, "claim", "flushed-" + i, 20).statusCode())
              .isEqualTo(200);
        }
        assertThat(ingest.flushUntilCommitted(first.port).statusCode()).isEqualTo(200);
        for (int i = 0; i < 3; i++) {
          assertThat(ingest.send(first.port, "claim", "buffered-" + i, 20).statusCode())
              .isEqualTo(200);
        }
        first.kill();
      }

      proxy.readFailuresAfterLoss = 0;
      proxy.loseCommitAnswers.set(1);
      Map<String, String> s = behind(env, proxy);
      s.put("buffer.dir", dir.toString());
      try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
        HttpResponse<String> ready = awaitReady(ingest, node.port());
        assertThat(proxy.commitsApplied).as("the catalog applied the claim").hasValue(1);
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(ingest.send(node.port(), "claim", "after", 20).statusCode()).isEqualTo(200);
        HttpResponse<String> flushed = ingest.flushUntilCommitted(node.port());
        assertThat(flushed.statusCode()).as(flushed.body()).isEqualTo(200);
        Ingest.assertExactly(env.rows(), 2, ingest.acknowledged);
      }
    }
  }

  /**
   * The first commit of a flush has its connection reset while the catalog still works on it; the
   * node finds the range uncommitted and commits a longer one; the first lands before it, so the
   * second is refused. Under the node's own epoch the range that landed can only be its own: the
   * node is not fenced and every acknowledged event lands once.
   */
  @Test
  void aCommitThatLandsAfterTheNodeGaveUpOnItDoesNotFenceTheNode() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        LossyCatalogProxy proxy = new LossyCatalogProxy(env.service.port())) {
      Map<String, String> s = behind(env, proxy);
      try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
        Ingest ingest = new Ingest();
        sendFive(ingest, node.port(), "late", "first");
        proxy.resetCommits.set(1);
        HttpResponse<String> failed = ingest.post(node.port(), "/v1/flush");
        assertThat(failed.statusCode()).as(failed.body()).isEqualTo(503);

        sendFive(ingest, node.port(), "late", "second");
        long hwm = node.buffer().highWaterMark();
        HttpResponse<String> flushed = ingest.flushUntilCommitted(node.port());
        assertThat(proxy.commitsApplied).as("the delayed commit landed").hasValue(1);
        assertThat(ingest.get(node.port(), "/health/ready").statusCode())
            .as("not fenced")
            .isEqualTo(200);
        assertThat(flushed.statusCode()).as(flushed.body()).isEqualTo(200);
        assertThat(new JsonObject(flushed.body()).getLong("committed_sequence")).isEqualTo(hwm);
        Ingest.assertExactly(env.rows(), 2, ingest.acknowledged);
      }
    }
  }

  /** Polls /health/ready until 200, a state that will not change by itself, or a minute. */
  private static HttpResponse<String> awaitReady(Ingest ingest, int port) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    HttpResponse<String> ready = ingest.get(port, "/health/ready");
    while (ready.statusCode() != 200
        && !ready.body().contains("salvage_needed")
        && !ready.body().contains("fenced")
        && System.nanoTime() < deadline) {
      Thread.sleep(200);
      ready = ingest.get(port, "/health/ready");
    }
    return ready;
  }

  /**
   * A node's settings with its catalog behind {@code proxy}; the typed columns' refresh is held
   * off, so that the failures the proxy injects meet the flusher's and the claim's requests only.
   */
  private static Map<String, String> behind(TableEnv env, LossyCatalogProxy proxy) {
    Map<String, String> s = env.nodeSettings(2);
    s.put("catalog.uri", "http://127.0.0.1:" + proxy.port());
    s.put("columns.refresh-seconds", "3600");
    return s;
  }

  /** Five acknowledged batches of 20 events to {@code stream}, ids {@code <prefix>-<i>}. */
  private static void sendFive(Ingest ingest, int port, String stream, String prefix)
      throws Exception {
    for (int i = 0; i < 5; i++) {
      assertThat(ingest.send(port, stream, prefix + "-" + i, 20).statusCode()).isEqualTo(200);
    }
  }
}
