package io.floe.it.cluster;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The network between the nodes' hand-overs and whichever node holds the committer role: one
 * listening port in front of each node (the port the node advertises, {@code
 * node.advertise-address}), forwarding everything to the node, except the hand-overs of a partition
 * the test cuts off (never answered, as behind a dropped route) or holds (kept until released, then
 * forwarded: the sender may be killed meanwhile). A hand-over names its partition in its query.
 */
final class HandoverProxy implements AutoCloseable {
  /** What happens to one partition's hand-overs. */
  enum Rule {
    PASS,
    HOLD,
    CUT
  }

  private final Vertx vertx = Vertx.vertx();
  private final HttpClient upstream =
      vertx.createHttpClient(new HttpClientOptions().setMaxPoolSize(64));
  private final List<HttpServer> servers = new ArrayList<>();
  private final Map<Integer, Rule> rules = new ConcurrentHashMap<>();
  private final Map<Integer, List<Runnable>> held = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicInteger> arrived = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicLong> stoppedThrough = new ConcurrentHashMap<>();

  /** The answers to held hand-overs that came after their senders had gone, as JSON text. */
  final List<String> lateAnswers = new CopyOnWriteArrayList<>();

  /** A new port in front of the node at {@code nodePort}: use as the node's hand-over port. */
  int front(int nodePort) {
    try {
      HttpServer server =
          vertx
              .createHttpServer()
              .requestHandler(req -> req.body().onSuccess(body -> route(req, body, nodePort)))
              .listen(0, "127.0.0.1")
              .toCompletionStage()
              .toCompletableFuture()
              .get(10, TimeUnit.SECONDS);
      synchronized (servers) {
        servers.add(server);
      }
      return server.actualPort();
    } catch (Exception e) {
      throw new IllegalStateException("cannot listen for node " + nodePort, e);
    }
  }

  /** From now on, {@code partition}'s hand-overs are cut off. */
  void cut(int partition) {
    rules.put(partition, Rule.CUT);
  }

  /** From now on, {@code partition}'s hand-overs are held until {@link #release}. */
  void hold(int partition) {
    rules.put(partition, Rule.HOLD);
  }

  /** {@code partition}'s hand-overs pass again; held ones are forwarded now. */
  void release(int partition) {
    rules.put(partition, Rule.PASS);
    List<Runnable> waiting;
    synchronized (held) {
      waiting = held.remove(partition);
    }
    if (waiting != null) {
      waiting.forEach(Runnable::run);
    }
  }

  /** How many of {@code partition}'s hand-overs arrived while it was held or cut off. */
  int stopped(int partition) {
    return arrived.computeIfAbsent(partition, p -> new AtomicInteger()).get();
  }

  /**
   * The furthest range end ({@code through}) among {@code partition}'s hand-overs held or cut off
   * so far, or 0.
   */
  long stoppedThrough(int partition) {
    return stoppedThrough.computeIfAbsent(partition, p -> new AtomicLong()).get();
  }

  private void route(HttpServerRequest req, Buffer body, int nodePort) {
    int partition = partition(req);
    Rule rule = partition < 0 ? Rule.PASS : rules.getOrDefault(partition, Rule.PASS);
    if (rule == Rule.PASS) {
      forward(req, body, nodePort);
      return;
    }
    long through = Long.parseLong(req.getParam("through", "0"));
    stoppedThrough
        .computeIfAbsent(partition, p -> new AtomicLong())
        .accumulateAndGet(through, Math::max);
    arrived.computeIfAbsent(partition, p -> new AtomicInteger()).incrementAndGet();
    if (rule == Rule.HOLD) {
      synchronized (held) {
        held.computeIfAbsent(partition, p -> new ArrayList<>())
            .add(
                () ->
                    vertx.runOnContext(
                        v -> {
                          System.out.println("hand-over proxy: forwarding held " + req.uri());
                          forward(req, body, nodePort);
                        }));
      }
    }
    // CUT: never answered; the sender gives up at its own timeout
  }

  private static int partition(HttpServerRequest req) {
    String p = req.getParam("partition");
    try {
      return p == null ? -1 : Integer.parseInt(p);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void forward(HttpServerRequest req, Buffer body, int nodePort) {
    upstream
        .request(req.method(), nodePort, "127.0.0.1", req.uri())
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
        .compose(resp -> resp.body().map(b -> Map.entry(resp, b)))
        .onComplete(
            ar -> {
              if (req.response().closed() || req.response().ended()) {
                String answer =
                    ar.failed()
                        ? ar.cause().toString()
                        : ar.result().getKey().statusCode() + " " + ar.result().getValue();
                lateAnswers.add(answer);
                System.out.println(
                    "hand-over proxy: " + req.uri() + " answered after its sender left: " + answer);
                return;
              }
              if (ar.failed()) {
                // the node is gone: what its peers see is a connection reset
                req.connection().close();
                return;
              }
              String type = ar.result().getKey().getHeader("Content-Type");
              req.response().setStatusCode(ar.result().getKey().statusCode());
              if (type != null) {
                req.response().putHeader("Content-Type", type);
              }
              req.response().end(ar.result().getValue());
            });
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
