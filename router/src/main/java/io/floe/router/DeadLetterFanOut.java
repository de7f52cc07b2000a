package io.floe.router;

import io.floe.common.http.BodyRate;
import io.floe.common.http.FloeHttp;
import io.floe.common.http.JsonResponses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The dead-letter API ({@code GET /floe/v1/dead-letter}, {@code POST /floe/v1/dead-letter/replay})
 * through the router. Each node lists and replays its own partition's dead letters only, so the
 * router asks every node of its membership at once (healthy or not: a node marked down is asked
 * too, and a node that cannot be reached is reported, never skipped) and combines the answers as
 * {@code scripts/floe dead-letter} does: a replay's counters summed per field, its ids
 * concatenated, and {@code truncated} when any node's was (it stopped at the limit with more
 * waiting: the same replay again goes on with them); lists concatenated, oldest first, cut at the
 * request's {@code limit}, each item with its {@code partition_id}. A list cut (by the limit here,
 * or by a node's limit or read budget) answers {@code truncated} and {@code next_after}: each
 * partition's last listed id (or the one the request's {@code after} gave), which the next list
 * passes as its {@code after} to go on.
 *
 * <p>The caller's own {@code Authorization} header goes to the nodes (never the router's {@code
 * router.node-token}, whose {@code router} scope allows ingestion only): the router checks the
 * scope first, and each node checks it again and decides, so the router gains no power here.
 *
 * <p>The answer is {@code 200} only when every node answered {@code 200}. When a node could not be
 * reached or failed, the answer is {@code 503} (a node down or unavailable; {@code Retry-After}) or
 * {@code 502} (a node failed otherwise), naming each failed node and its partition, with what the
 * others answered: a replay's outcome on a failed partition is not known, and re-running the same
 * replay once the node is back finishes it (a replay is exactly once per dead letter: what was
 * replayed is not replayed again). When no node answered {@code 200} and one answered a client
 * error (a bad filter, a token the nodes do not know), that node's own answer is passed through:
 * the nodes refuse a bad filter before they replay anything.
 */
final class DeadLetterFanOut {
  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterFanOut.class);

  static final String ROOT = "/floe/v1/dead-letter";
  static final String REPLAY = ROOT + "/replay";

  /** The largest replay body (filters; a list of ids) the router reads. */
  static final int MAX_BODY_BYTES = 1 << 20;

  /**
   * The longest the router waits for a node's list or replay (a replay answers after a flush
   * committed every outcome): just under the router's own idle timeout, so that the caller gets an
   * answer naming the slow node instead of a closed connection. The node's replay goes on and
   * finishes; the same replay again reports it.
   */
  static final long NODE_TIMEOUT_MILLIS =
      TimeUnit.SECONDS.toMillis(Router.IDLE_TIMEOUT_SECONDS - 5);

  private static final List<String> COUNTERS =
      List.of("replayed", "failed_again", "already_replayed");
  private static final int DEFAULT_LIMIT = 1000;

  private final Vertx vertx;
  private final HttpClient client;
  private final Membership membership;
  private final RouterMetrics metrics;
  private final BodyRate bodyRate;
  private final long poolWaitMillis;

  DeadLetterFanOut(
      Vertx vertx,
      HttpClient client,
      Membership membership,
      RouterMetrics metrics,
      RouterConfig config) {
    this.vertx = vertx;
    this.client = client;
    this.membership = membership;
    this.metrics = metrics;
    this.bodyRate = config.bodyRate();
    this.poolWaitMillis = config.poolWait().toMillis();
  }

  /** {@code GET /floe/v1/dead-letter}: the caller was authenticated with {@code read}. */
  void list(HttpServerRequest req) {
    int limit = DEFAULT_LIMIT;
    String l = req.getParam("limit");
    if (l != null) {
      try {
        limit = Integer.parseInt(l.trim());
      } catch (NumberFormatException e) {
        // the nodes answer a bad limit with their own 400
      }
    }
    int cut = limit;
    String uri = req.uri();
    fanOut(req, HttpMethod.GET, uri, null).onSuccess(answers -> answerList(req, answers, cut));
  }

  /** {@code POST /floe/v1/dead-letter/replay}: the caller was authenticated with {@code admin}. */
  void replay(HttpServerRequest req, String principal) {
    HttpServerResponse response = req.response();
    if (FloeHttp.declaredLength(req) > MAX_BODY_BYTES) {
      JsonResponses.errorAndClose(req, 413, "payload_too_large", tooLarge());
      return;
    }
    Buffer body = Buffer.buffer();
    req.exceptionHandler(
        e -> {
          if (JsonResponses.isFramingError(e)) {
            JsonResponses.framingErrorNow(req, e);
          }
        });
    req.handler(
        chunk -> {
          if (response.ended()) {
            return;
          }
          if (body.length() + chunk.length() > MAX_BODY_BYTES) {
            JsonResponses.errorAndClose(req, 413, "payload_too_large", tooLarge());
            return;
          }
          body.appendBuffer(chunk);
        });
    bodyRate.watch(
        vertx, req, detail -> JsonResponses.errorAndClose(req, 408, BodyRate.ERROR, detail));
    req.endHandler(
        v -> {
          if (response.ended() || response.closed()) {
            return;
          }
          if (body.length() > 0 && !isJsonObject(body)) {
            // the nodes' own refusal, answered here so that it holds while a node is down
            JsonResponses.error(
                response,
                400,
                "bad_filter",
                "the body must be a JSON object of filters [stream, code, since, until, ids,"
                    + " limit]; nothing was replayed");
            return;
          }
          fanOut(req, HttpMethod.POST, REPLAY, body)
              .onSuccess(answers -> answerReplay(req, answers, principal));
        });
  }

  private static String tooLarge() {
    return "a replay's filters are at most "
        + MAX_BODY_BYTES
        + " bytes through the router; nothing was replayed (replay by stream, code or time"
        + " instead of a long list of ids, or in several requests)";
  }

  private static boolean isJsonObject(Buffer body) {
    try {
      return body.toJson() instanceof JsonObject;
    } catch (DecodeException e) {
      return false;
    }
  }

  /** One node's answer: its status and body, or (status 0) why it gave none. */
  private record NodeAnswer(Member node, int status, Buffer body, Throwable failure) {
    /** The answer as a JSON object, or null when it is not one. */
    JsonObject json() {
      if (body == null) {
        return null;
      }
      try {
        return body.toJson() instanceof JsonObject o ? o : null;
      } catch (DecodeException e) {
        return null;
      }
    }

    boolean ok() {
      return status == 200 && json() != null;
    }

    boolean clientError() {
      return status >= 400 && status < 500;
    }

    /** Down, not yet joined, shutting down: worth a retry shortly. */
    boolean unavailable() {
      return status == 503 || (status == 0 && isConnectFailure(failure));
    }

    Integer partition() {
      int p = node.partition;
      return p < 0 ? null : p;
    }

    /** This node's line in the combined answer. */
    JsonObject summary() {
      JsonObject s =
          new JsonObject()
              .put("node", node.id)
              .put("partition_id", partition())
              .put("status", status == 0 ? null : status);
      if (!ok()) {
        JsonObject j = json();
        if (status == 0) {
          s.put("error", isConnectFailure(failure) ? "unreachable" : "no_answer")
              .put(
                  "detail",
                  failure instanceof TimeoutException
                      ? "no answer within "
                          + NODE_TIMEOUT_MILLIS / 1000
                          + " s (its replay may still be running)"
                      : String.valueOf(failure.getMessage()));
        } else {
          s.put("error", j == null ? "bad_answer" : j.getString("error", "bad_answer"))
              .put("detail", j == null ? "not a JSON object" : j.getString("detail"));
        }
      }
      return s;
    }
  }

  /** Asks every member at once; completes (never fails) once each answered or failed. */
  private Future<List<NodeAnswer>> fanOut(
      HttpServerRequest req, HttpMethod method, String uri, Buffer body) {
    List<Member> members = membership.all();
    if (members.isEmpty()) {
      JsonResponses.error(req.response(), 503, "unavailable", "the router knows no node", 1);
      return Future.failedFuture("no node");
    }
    String authorization = req.getHeader("authorization");
    String requestId = req.getHeader(FloeHttp.REQUEST_ID);
    List<Future<NodeAnswer>> calls = new ArrayList<>();
    for (Member m : members) {
      calls.add(call(m, method, uri, body, authorization, requestId));
    }
    return Future.join(calls).map(all -> calls.stream().map(Future::result).toList());
  }

  private Future<NodeAnswer> call(
      Member m,
      HttpMethod method,
      String uri,
      Buffer body,
      String authorization,
      String requestId) {
    long start = System.nanoTime();
    RequestOptions options =
        new RequestOptions()
            .setMethod(method)
            .setHost(m.address.host())
            .setPort(m.address.port())
            .setURI(uri)
            .setConnectTimeout(poolWaitMillis)
            .setIdleTimeout(NODE_TIMEOUT_MILLIS);
    if (authorization != null) {
      options.putHeader("authorization", authorization);
    }
    if (requestId != null) {
      options.putHeader(FloeHttp.REQUEST_ID, requestId);
    }
    if (body != null) {
      options.putHeader("content-type", JsonResponses.CONTENT_TYPE);
    }
    // in flight like a forwarded request: a router shutting down waits for it (Router.close)
    m.inflight.incrementAndGet();
    return client
        .request(options)
        .compose(out -> body == null ? out.send() : out.send(body))
        .compose(resp -> resp.body().map(b -> new NodeAnswer(m, resp.statusCode(), b, null)))
        .map(
            a -> {
              metrics.forwarded(m, a.status(), System.nanoTime() - start);
              return a;
            })
        .recover(
            e -> {
              metrics.error(m, "dead_letter");
              return Future.succeededFuture(new NodeAnswer(m, 0, null, e));
            })
        .onComplete(done -> m.inflight.decrementAndGet());
  }

  private void answerList(HttpServerRequest req, List<NodeAnswer> answers, int limit) {
    List<JsonObject> items = new ArrayList<>();
    // each partition's items in its node's order (by sequence), for the cursor below
    Map<Integer, List<JsonObject>> byPartition = new LinkedHashMap<>();
    boolean truncated = false;
    for (NodeAnswer a : answers) {
      if (!a.ok()) {
        continue;
      }
      truncated |= a.json().getBoolean("truncated", false);
      JsonArray listed = a.json().getJsonArray("dead_letters", new JsonArray());
      for (Object o : listed) {
        if (o instanceof JsonObject d) {
          Integer partition = partitionOf(d.getString("id"), a.partition());
          items.add(d.put("partition_id", partition));
          byPartition.computeIfAbsent(partition, p -> new ArrayList<>()).add(d);
        }
      }
    }
    // oldest first across the partitions, as each node lists its own
    items.sort(Comparator.comparing(DeadLetterFanOut::ingestTime).thenComparing(d -> idOf(d)));
    Set<JsonObject> kept = Collections.newSetFromMap(new IdentityHashMap<>());
    kept.addAll(limit > 0 && items.size() > limit ? items.subList(0, limit) : items);
    // a list goes on after each partition's last listed id: what is listed of a partition is the
    // start of its node's list (a later one kept before an earlier one cut is left to the next
    // page)
    Map<Integer, String> next = cursor(req.getParam("after"));
    for (Map.Entry<Integer, List<JsonObject>> e : byPartition.entrySet()) {
      boolean cut = false;
      for (JsonObject d : e.getValue()) {
        if (cut || !kept.contains(d)) {
          cut = true;
          kept.remove(d);
          truncated = true;
        } else if (e.getKey() != null) {
          next.put(e.getKey(), idOf(d));
        }
      }
    }
    JsonArray out = new JsonArray();
    for (JsonObject d : items) {
      if (kept.contains(d)) {
        out.add(d);
      }
    }
    JsonObject combined = new JsonObject().put("dead_letters", out).put("truncated", truncated);
    if (truncated) {
      combined.put("next_after", String.join(",", next.values()));
    }
    combine(req, answers, combined, null);
  }

  /** A list's {@code after} ids ({@code partition-sequence}) by partition. */
  private static Map<Integer, String> cursor(String after) {
    Map<Integer, String> out = new TreeMap<>();
    if (after != null) {
      for (String id : after.split(",")) {
        Integer p = partitionOf(id.trim(), null);
        if (p != null) {
          out.put(p, id.trim());
        }
      }
    }
    return out;
  }

  private void answerReplay(HttpServerRequest req, List<NodeAnswer> answers, String principal) {
    JsonObject combined = new JsonObject();
    JsonArray ids = new JsonArray();
    for (String c : COUNTERS) {
      combined.put(c, 0L);
    }
    boolean truncated = false;
    for (NodeAnswer a : answers) {
      if (a.ok()) {
        JsonObject j = a.json();
        for (String c : COUNTERS) {
          combined.put(c, combined.getLong(c) + numberOr0(j, c));
        }
        j.getJsonArray("ids", new JsonArray()).forEach(ids::add);
        // a node that stopped at the limit with more waiting: the same replay again goes on
        truncated |= Boolean.TRUE.equals(j.getValue("truncated"));
      }
    }
    combined.put("ids", ids).put("truncated", truncated);
    combine(req, answers, combined, principal);
  }

  /**
   * Answers {@code combined} with every node's line: {@code 200} when all answered 200; a client
   * error passed through when no node answered 200; else 503 or 502 naming the failed nodes.
   *
   * @param replayBy the caller of a replay, or null for a list
   */
  private void combine(
      HttpServerRequest req, List<NodeAnswer> answers, JsonObject combined, String replayBy) {
    boolean replay = replayBy != null;
    HttpServerResponse response = req.response();
    JsonArray nodes = new JsonArray();
    List<NodeAnswer> failed = new ArrayList<>();
    List<String> succeededPartitions = new ArrayList<>();
    for (NodeAnswer a : answers) {
      nodes.add(a.summary());
      if (a.ok()) {
        succeededPartitions.add(String.valueOf(a.partition()));
      } else {
        failed.add(a);
      }
    }
    combined.put("nodes", nodes);
    if (failed.isEmpty()) {
      if (replay) {
        LOG.info(
            "dead-letter replay through the router by {}: {} replayed, {} failed again, {} already"
                + " replayed, on {} nodes",
            replayBy,
            combined.getLong("replayed"),
            combined.getLong("failed_again"),
            combined.getLong("already_replayed"),
            answers.size());
      }
      JsonResponses.send(response, 200, combined);
      return;
    }
    if (failed.size() == answers.size()) {
      for (NodeAnswer a : failed) {
        if (a.clientError() && a.body() != null && !response.ended() && !response.closed()) {
          // a bad filter, a token the nodes refuse: the nodes' own answer, nothing changed
          response.setStatusCode(a.status()).putHeader("content-type", JsonResponses.CONTENT_TYPE);
          if (a.status() == 401) {
            response.putHeader(FloeHttp.WWW_AUTHENTICATE, "Bearer");
          }
          response.putHeader(FloeHttp.NODE_HEADER, a.node().id).end(a.body());
          return;
        }
      }
    }
    boolean unavailable = failed.stream().allMatch(NodeAnswer::unavailable);
    List<String> names = new ArrayList<>();
    for (NodeAnswer a : failed) {
      names.add("node " + a.node().id + " (partition " + a.partition() + ")");
    }
    String detail =
        String.join(", ", names)
            + (unavailable ? " could not be reached or is unavailable" : " failed")
            + (!replay
                ? "; the list holds the other nodes' dead letters only"
                : "; its replay did not run or its outcome is unknown, the counts are the other"
                    + " nodes' (partitions "
                    + String.join(", ", succeededPartitions)
                    + "): run the same replay again once the node is back (a dead letter is"
                    + " replayed once: what was replayed is not replayed again)")
            + "; see nodes for each node's answer";
    combined
        .put("error", unavailable ? "unavailable" : "bad_gateway")
        .put("detail", detail)
        .put("failed_nodes", new JsonArray(failed.stream().map(a -> a.node().id).toList()));
    LOG.warn(
        "dead-letter {} through the router{}: {}",
        replay ? "replay" : "list",
        replay ? " by " + replayBy : "",
        detail);
    if (unavailable) {
      response.putHeader(FloeHttp.RETRY_AFTER, "5");
    }
    JsonResponses.send(response, unavailable ? 503 : 502, combined);
  }

  private static long numberOr0(JsonObject j, String field) {
    Object v = j.getValue(field);
    return v instanceof Number n ? n.longValue() : 0L;
  }

  /** The partition a dead-letter id ({@code partition-sequence}) names, else the node's. */
  private static Integer partitionOf(String id, Integer nodePartition) {
    if (id != null) {
      int dash = id.indexOf('-');
      try {
        return Integer.parseInt(id.substring(0, dash));
      } catch (RuntimeException notAnId) {
        // the node's partition below
      }
    }
    return nodePartition;
  }

  private static Instant ingestTime(JsonObject d) {
    try {
      return Instant.parse(d.getString("ingest_time", ""));
    } catch (DateTimeParseException | ClassCastException e) {
      return Instant.MAX;
    }
  }

  private static String idOf(JsonObject d) {
    Object id = d.getValue("id");
    return id == null ? "" : id.toString();
  }

  private static boolean isConnectFailure(Throwable e) {
    return e instanceof ConnectException
        || e instanceof NoRouteToHostException
        || e instanceof UnknownHostException;
  }
}
