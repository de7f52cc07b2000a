package io.floe.router;

import io.floe.common.auth.Quotas;
import io.floe.common.http.BodyRate;
import io.floe.common.http.FloeHttp;
import io.floe.common.http.JsonResponses;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Forwards an ingestion request to one node over pooled keep-alive connections, streaming the body
 * through. The node is chosen by the request's key ({@code X-Floe-Key} or {@code ?key=}), else by
 * its {@code Idempotency-Key}; requests with neither go to the less loaded of two random healthy
 * nodes. A request with an {@code Idempotency-Key} is pinned to its key's partition (see {@link
 * #pinned}) so that a producer's retry reaches the node that remembers the key. A request whose
 * connection could not be opened is retried on another node; once its bytes were sent to a node it
 * is not retried (the node may have stored it): the client gets the error and decides.
 */
final class Forwarder {
  private static final List<String> REQUEST_HEADERS =
      List.of(
          "content-type",
          "content-encoding",
          "content-length",
          "authorization",
          "transfer-encoding",
          FloeHttp.IDEMPOTENCY_KEY,
          FloeHttp.ON_ERROR,
          FloeHttp.REQUEST_ID);
  private static final List<String> RESPONSE_HEADERS =
      List.of(
          "content-type",
          FloeHttp.RETRY_AFTER,
          FloeHttp.WWW_AUTHENTICATE,
          FloeHttp.IDEMPOTENCY_REPLAYED);

  private final Membership membership;
  private final RouterMetrics metrics;
  private final HttpClient client;
  private final long timeoutMillis;
  private final long poolWaitMillis;

  private final String nodeToken;
  private final Vertx vertx;
  private final BodyRate bodyRate;

  Forwarder(Vertx vertx, RouterConfig config, Membership membership, RouterMetrics metrics) {
    this.vertx = vertx;
    this.bodyRate = config.bodyRate();
    this.membership = membership;
    this.metrics = metrics;
    this.timeoutMillis = config.requestTimeout().toMillis();
    this.poolWaitMillis = config.poolWait().toMillis();
    this.nodeToken = config.nodeToken();
    this.client =
        vertx.createHttpClient(
            config.nodeClient(
                new HttpClientOptions()
                    .setKeepAlive(true)
                    .setTcpNoDelay(true)
                    .setConnectTimeout(2000)
                    .setKeepAliveTimeout(60)
                    .setPipelining(false)),
            new PoolOptions()
                .setHttp1MaxSize(config.connectionsPerNode())
                .setMaxWaitQueueSize(10_000));
  }

  /** Forwards an ingestion request; {@code admission} is told how many events the node stored. */
  void forward(HttpServerRequest req, Quotas.Admission admission) {
    req.pause();
    answerBrokenFraming(req);
    String key = req.getHeader(FloeHttp.KEY_HEADER);
    if (key == null) {
      key = req.getParam("key");
    }
    String idempotencyKey = req.getHeader(FloeHttp.IDEMPOTENCY_KEY);
    boolean idempotent = idempotencyKey != null;
    if (key == null && idempotent) {
      key = idempotencyKey;
    }
    if (idempotent) {
      pinned(req, key, admission, System.nanoTime());
    } else {
      attempt(req, key, new HashSet<>(), admission, System.nanoTime());
    }
  }

  /**
   * A request with an idempotency key goes to the partition its key hashes to among the partitions
   * the members reported (healthy or not), to the node that holds it, and never fails over: a node
   * remembers the keys of its own partition only, so a retry sent elsewhere could store the events
   * a second time. Hashing partitions, not addresses, keeps a key where it was when the nodes file
   * is reordered or a partition's node moves to another address. While that node is down, or while
   * a member has not yet reported its partition (the key may be that partition's), the answer is
   * 503 (retry later with the same key).
   */
  private void pinned(HttpServerRequest req, String key, Quotas.Admission admission, long start) {
    List<Member> members = membership.all();
    int[] partitions = new int[members.size()];
    for (int i = 0; i < partitions.length; i++) {
      Member m = members.get(i);
      partitions[i] = m.partition; // read once: a health answer may change it meanwhile
      if (partitions[i] < 0) {
        metrics.error(m, "partition_unknown");
        unavailable(
            req,
            "node "
                + m.id
                + " has not reported its partition yet, and this request's key may be that"
                + " partition's");
        return;
      }
    }
    Member owner = membership.forPartition(Rendezvous.partitionForKey(key, partitions));
    if (owner != null && !owner.healthy()) {
      metrics.error(owner, "owner_down");
      unavailable(
          req,
          "node "
              + owner.id
              + ", which holds partition "
              + owner.partition
              + " and with it this request's key, is unavailable");
      return;
    }
    attempt(req, key, allBut(owner), admission, start);
  }

  private static void unavailable(HttpServerRequest req, String why) {
    JsonResponses.error(
        req.response(),
        503,
        "unavailable",
        why + "; retry with the same " + FloeHttp.IDEMPOTENCY_KEY + " shortly",
        1);
    req.resume();
  }

  /**
   * The ids of every member but {@code node}: passed as "tried", they leave {@link #attempt} only
   * that node.
   */
  private Set<String> allBut(Member node) {
    Set<String> others = new HashSet<>();
    for (Member m : membership.all()) {
      if (m != node) {
        others.add(m.id);
      }
    }
    return others;
  }

  /**
   * Until the body is piped to a node (which then takes over the request's exceptions), a body
   * whose chunked framing breaks is answered 400 at once; {@link #send} then sends nothing on.
   */
  private void answerBrokenFraming(HttpServerRequest req) {
    req.exceptionHandler(
        e -> {
          if (JsonResponses.isFramingError(e)) {
            JsonResponses.framingErrorNow(req, e);
          }
        });
  }

  /** Forwards to one given node, no other: for requests about that node's partition. */
  void forwardTo(HttpServerRequest req, Member node) {
    req.pause();
    answerBrokenFraming(req);
    attempt(req, null, allBut(node), null, System.nanoTime());
  }

  /** {@code admission} is null for requests that are not ingestion (receipts). */
  private void attempt(
      HttpServerRequest req,
      String key,
      Set<String> tried,
      Quotas.Admission admission,
      long start) {
    List<Member> candidates = membership.healthy();
    candidates.removeIf(m -> tried.contains(m.id));
    Member node =
        key != null ? Rendezvous.forKey(key, candidates) : Rendezvous.leastLoadedOfTwo(candidates);
    if (node == null) {
      metrics.noHealthyNode();
      JsonResponses.error(
          req.response(),
          503,
          "unavailable",
          tried.isEmpty()
              ? "no healthy node to take the request; retry shortly"
              : "no node could be reached (tried " + tried + "); retry shortly",
          1);
      req.resume();
      return;
    }
    node.inflight.incrementAndGet();
    RequestOptions options =
        new RequestOptions()
            .setMethod(req.method())
            .setHost(node.address.host())
            .setPort(node.address.port())
            .setURI(req.uri())
            .setConnectTimeout(poolWaitMillis)
            .setIdleTimeout(timeoutMillis);
    MultiMap headers = req.headers();
    for (String h : REQUEST_HEADERS) {
      String v = headers.get(h);
      if (v != null) {
        options.putHeader(h, v);
      }
    }
    if (nodeToken != null) {
      // the router vouches for the producer it authenticated (Router.authorize set the header)
      options.putHeader("authorization", "Bearer " + nodeToken);
      String principal = headers.get(FloeHttp.PRINCIPAL_HEADER);
      if (principal != null) {
        options.putHeader(FloeHttp.PRINCIPAL_HEADER, principal);
      }
    }
    client
        .request(options)
        .onComplete(
            ar -> {
              if (ar.failed() && isConnectFailure(ar.cause())) {
                node.inflight.decrementAndGet();
                node.connectFailed();
                metrics.error(node, "connect");
                tried.add(node.id);
                attempt(req, key, tried, admission, start);
              } else if (ar.failed()) {
                // the node is up but every pooled connection to it is busy: that is load, not
                // failure
                node.inflight.decrementAndGet();
                metrics.error(node, "pool_busy");
                JsonResponses.error(
                    req.response(),
                    503,
                    "unavailable",
                    "node "
                        + node.id
                        + " has no free connection within "
                        + poolWaitMillis
                        + " ms (router.connections-per-node, router.pool-wait-seconds): "
                        + ar.cause().getMessage()
                        + "; retry shortly",
                    1);
                req.resume();
              } else {
                send(req, ar.result(), node, admission, start);
              }
            });
  }

  /**
   * Streams the body to the node and relays its answer. A node may answer before the whole body
   * arrived (a 413 on Content-Length); the client may then stop sending and hang up. A connection
   * whose request body was cut short is never handed back to the pool: its framing is broken and
   * the next request on it would hang. So the pipe does not end the node's request when the client
   * fails, it resets it; and an answer that came before the body was through closes both
   * connections. A body that comes slower than {@link BodyRate} allows is answered 408 and the
   * node's request reset (so the node stores nothing and the pooled connection is dropped).
   */
  private void send(
      HttpServerRequest req,
      HttpClientRequest out,
      Member node,
      Quotas.Admission admission,
      long start) {
    HttpServerResponse response = req.response();
    if (response.ended() || response.closed()) {
      // answered meanwhile (broken framing) or the client is gone: nothing goes to the node
      node.inflight.decrementAndGet();
      metrics.error(node, response.ended() ? "malformed_body" : "client_gone");
      out.reset(0);
      return;
    }
    req.pipe().endOnFailure(false).to(out).onFailure(e -> out.reset(0, e));
    // the request's own failures (the pipe took its exception handler; this one replaces it so that
    // a broken chunked body is answered before Vert.x closes the connection): the node's request is
    // reset, and it stores nothing
    req.exceptionHandler(
        e -> {
          if (JsonResponses.isFramingError(e)) {
            metrics.error(node, "malformed_body");
            JsonResponses.framingErrorNow(req, e);
          }
          out.reset(0, e);
        });
    bodyRate.watch(
        vertx,
        req,
        detail -> {
          metrics.error(node, "slow_body");
          JsonResponses.errorAndClose(req, 408, BodyRate.ERROR, detail);
          out.reset(0);
        });
    out.response()
        .compose(
            resp ->
                resp.body()
                    .map(
                        body -> {
                          response.setStatusCode(resp.statusCode());
                          for (String h : RESPONSE_HEADERS) {
                            String v = resp.getHeader(h);
                            if (v != null) {
                              response.putHeader(h, v);
                            }
                          }
                          response.putHeader(FloeHttp.NODE_HEADER, node.id);
                          boolean replayed = resp.getHeader(FloeHttp.IDEMPOTENCY_REPLAYED) != null;
                          if (admission != null && resp.statusCode() == 200 && !replayed) {
                            // the producer's quota is charged with what the node stored, its
                            // dead letters included, as a node charges a producer that reaches it
                            // directly (a replay stored nothing); the stream's events count the
                            // accepted ones only (dead letters: the nodes' floe_dead_letters_total)
                            // (an answer without a count charges the bytes only)
                            long accepted = NodeAnswer.count(body, NodeAnswer.ACCEPTED);
                            long deadLettered = NodeAnswer.count(body, NodeAnswer.DEAD_LETTERED);
                            admission.stored(accepted + deadLettered);
                            metrics.streams().accepted(FloeHttp.ingestStream(req.path()), accepted);
                          }
                          if (!req.isEnded()) {
                            metrics.error(node, "early_answer");
                            out.connection().close();
                            response.putHeader("Connection", "close");
                          }
                          response.end(body);
                          return resp.statusCode();
                        }))
        .onComplete(
            ar -> {
              node.inflight.decrementAndGet();
              if (ar.succeeded()) {
                metrics.forwarded(node, ar.result(), System.nanoTime() - start);
              } else if (!response.ended()) {
                metrics.error(node, "after_send");
                JsonResponses.error(
                    response,
                    502,
                    "bad_gateway",
                    "node "
                        + node.id
                        + " failed after the request was sent ("
                        + ar.cause().getMessage()
                        + "); it may or may not have stored the events: retry if needed");
              }
            });
  }

  /** A connection to the node could not be opened (refused, unreachable, TCP connect timed out). */
  private static boolean isConnectFailure(Throwable e) {
    return e instanceof ConnectException
        || e instanceof NoRouteToHostException
        || e instanceof UnknownHostException;
  }

  /** The client that reaches the nodes. */
  HttpClient client() {
    return client;
  }
}
