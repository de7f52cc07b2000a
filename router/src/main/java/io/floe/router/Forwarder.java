package io.floe.router;

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
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Forwards an ingestion request to one node over pooled keep-alive connections, streaming the
 * body through. A request whose connection could not be opened is retried on another node; once
 * its bytes were sent to a node it is not retried (the node may have stored it): the client gets
 * the error and decides.
 */
final class Forwarder {
  private static final List<String> REQUEST_HEADERS =
      List.of("content-type", "content-encoding", "content-length", "authorization", "transfer-encoding");
  private static final List<String> RESPONSE_HEADERS = List.of("content-type", "retry-after");

  private final Membership membership;
  private final RouterMetrics metrics;
  private final HttpClient client;
  private final long timeoutMillis;

  Forwarder(Vertx vertx, RouterConfig config, Membership membership, RouterMetrics metrics) {
    this.membership = membership;
    this.metrics = metrics;
    this.timeoutMillis = config.requestTimeout().toMillis();
    this.client = vertx.createHttpClient(
        new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setConnectTimeout(2000)
            .setKeepAliveTimeout(60).setPipelining(false),
        new PoolOptions().setHttp1MaxSize(config.connectionsPerNode()).setMaxWaitQueueSize(10_000));
  }

  void forward(HttpServerRequest req) {
    req.pause();
    String key = req.getHeader("X-Floe-Key");
    if (key == null) {
      key = req.getParam("key");
    }
    attempt(req, key, new HashSet<>(), System.nanoTime());
  }

  private void attempt(HttpServerRequest req, String key, Set<String> tried, long start) {
    List<Member> candidates = membership.healthy();
    candidates.removeIf(m -> tried.contains(m.id));
    Member node = key != null ? Rendezvous.forKey(key, candidates) : Rendezvous.leastLoadedOfTwo(candidates);
    if (node == null) {
      metrics.noHealthyNode();
      req.response().putHeader("Retry-After", "1");
      error(req.response(), 503, "unavailable", tried.isEmpty()
          ? "no healthy node to take the request; retry shortly"
          : "no node could be reached (tried " + tried + "); retry shortly");
      req.resume();
      return;
    }
    node.inflight.incrementAndGet();
    RequestOptions options = new RequestOptions()
        .setMethod(req.method())
        .setHost(node.address.host())
        .setPort(node.address.port())
        .setURI(req.uri())
        .setIdleTimeout(timeoutMillis);
    MultiMap headers = req.headers();
    for (String h : REQUEST_HEADERS) {
      String v = headers.get(h);
      if (v != null) {
        options.putHeader(h, v);
      }
    }
    client.request(options).onComplete(ar -> {
      if (ar.failed()) {
        node.inflight.decrementAndGet();
        node.connectFailed();
        metrics.error(node, "connect");
        tried.add(node.id);
        attempt(req, key, tried, start);
      } else {
        send(req, ar.result(), node, start);
      }
    });
  }

  private void send(HttpServerRequest req, HttpClientRequest out, Member node, long start) {
    HttpServerResponse response = req.response();
    out.send(req)
        .compose(resp -> resp.body().map(body -> {
          response.setStatusCode(resp.statusCode());
          for (String h : RESPONSE_HEADERS) {
            String v = resp.getHeader(h);
            if (v != null) {
              response.putHeader(h, v);
            }
          }
          response.putHeader("X-Floe-Node", node.id);
          response.end(body);
          return resp.statusCode();
        }))
        .onComplete(ar -> {
          node.inflight.decrementAndGet();
          if (ar.succeeded()) {
            metrics.forwarded(node, ar.result(), System.nanoTime() - start);
          } else {
            metrics.error(node, "after_send");
            error(response, 502, "bad_gateway", "node " + node.id + " failed after the request was sent ("
                + ar.cause().getMessage() + "); it may or may not have stored the events: retry if needed");
          }
        });
  }

  private static void error(HttpServerResponse response, int status, String error, String detail) {
    JsonResponses.error(response, status, error, detail);
  }
}
