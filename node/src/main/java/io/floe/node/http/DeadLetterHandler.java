package io.floe.node.http;

import io.floe.common.auth.Principal;
import io.floe.common.auth.Scope;
import io.floe.common.http.FloeHttp;
import io.floe.common.http.JsonResponses;
import io.floe.node.config.NodeConfig;
import io.floe.node.error.IngestException;
import io.floe.node.flush.DeadLetterReplay;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;

/**
 * {@code /floe/v1/dead-letter}: this node's partition's dead letters. {@code GET} lists those that
 * wait for a replay (read: without their raw bytes, which only an admin token is shown, as {@code
 * raw_base64}); {@code POST .../replay} replays them (admin), exactly once (see {@link
 * DeadLetterReplay}), and says {@code truncated} when more wait beyond its {@code limit} (the same
 * replay again goes on with them). Filters, in the query or the JSON body: {@code stream}, {@code
 * code}, {@code since} and {@code until} (RFC 3339 ingest times), {@code ids} ({@code
 * partition-sequence}), {@code limit}, {@code after} (ids: this partition's says where a list goes
 * on). A list holds at most {@code dead-letter.read-budget-bytes} of raw bytes: {@code truncated}
 * says more match, and {@code next_after} is the last id listed, to pass as {@code after}. A
 * replay's body is at most {@value #MAX_BODY_BYTES} bytes (as through the router): a longer one is
 * refused with 413 before anything is replayed.
 */
public final class DeadLetterHandler {
  public static final String ROOT = "/floe/v1/dead-letter";
  private static final Set<String> FIELDS =
      Set.of("stream", "code", "since", "until", "ids", "limit", "after");
  private static final int DEFAULT_LIMIT = 1000;
  private static final int MAX_LIMIT = 100_000;

  /** The most bytes a replay's filters may take. */
  static final int MAX_BODY_BYTES = 1 << 20;

  private static final String BODY_LIMIT =
      "the filters of a replay; nothing was replayed: replay by stream, code or time instead of a"
          + " long list of ids, or in several requests";

  private final Supplier<DeadLetterReplay> replay;
  private final NodeConfig.IngestLimits limits;

  /** {@code limits}: how slowly a replay's body may come ({@code ingest.body-*}). */
  public DeadLetterHandler(Supplier<DeadLetterReplay> replay, NodeConfig.IngestLimits limits) {
    this.replay = replay;
    this.limits = limits;
  }

  public void list(RoutingContext ctx) {
    JsonObject query = new JsonObject();
    for (String f : FIELDS) {
      String v = ctx.request().getParam(f);
      if (v != null) {
        query.put(
            f, f.equals("ids") || f.equals("after") ? new JsonArray(List.of(v.split(","))) : v);
      }
    }
    // the raw bytes are any stream's payloads: only for the scope that may replay them, not for
    // every read token (a dashboard's)
    Principal caller = ctx.get(ScopedAuth.PRINCIPAL);
    boolean raw = caller != null && caller.may(Scope.ADMIN);
    run(
        ctx,
        r -> {
          JsonArray out = new JsonArray();
          DeadLetterReplay.Page page = r.pending(filter(query));
          for (DeadLetterReplay.Listed l : page.listed()) {
            JsonObject item =
                new JsonObject()
                    .put("id", l.id())
                    .put("stream", l.stream())
                    .put("ingest_time", l.ingestTime().toString())
                    .put("code", l.code())
                    .put("detail", l.detail())
                    .put("position", l.position())
                    .put("replay_count", l.replayCount())
                    .put("content_type", l.contentType())
                    .put("raw_truncated", l.truncated())
                    .put("raw_length", l.rawLength());
            if (raw) {
              item.put("raw_base64", Base64.getEncoder().encodeToString(l.raw()));
            }
            out.add(item);
          }
          JsonObject answer =
              new JsonObject().put("dead_letters", out).put("truncated", page.truncated());
          if (page.truncated()) {
            // where the next list goes on (the listed ones are oldest first, by sequence)
            answer.put("next_after", page.listed().get(page.listed().size() - 1).id());
          }
          return answer;
        });
  }

  public void replay(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    long declared = FloeHttp.declaredLength(req);
    if (declared > MAX_BODY_BYTES) {
      tooLarge(
          req,
          "request body is "
              + declared
              + " bytes, over the limit of "
              + MAX_BODY_BYTES
              + " ("
              + BODY_LIMIT
              + ")");
      return;
    }
    BodyReader.read(ctx.vertx(), req, MAX_BODY_BYTES, BODY_LIMIT, limits, declared)
        .onFailure(
            e -> {
              if (e instanceof IngestException.TooLarge t) {
                tooLarge(req, t.detail());
              } else {
                ctx.fail(e);
              }
            })
        .onSuccess(
            read -> {
              JsonObject query;
              try {
                Buffer body = Buffer.buffer(read.bytes()).slice(0, read.length());
                query = body.length() == 0 ? new JsonObject() : body.toJsonObject();
              } catch (DecodeException | ClassCastException e) {
                ctx.fail(
                    new IngestException.BadRequest(
                        "bad_filter", "the body must be a JSON object of filters " + FIELDS));
                return;
              }
              run(
                  ctx,
                  r -> {
                    DeadLetterReplay.Result done = r.replay(filter(query));
                    return new JsonObject()
                        .put("replayed", done.replayed())
                        .put("failed_again", done.failedAgain())
                        .put("already_replayed", done.alreadyReplayed())
                        .put("ids", new JsonArray(done.ids()))
                        .put("truncated", done.truncated());
                  });
            });
  }

  /** A body over the limit: answered now, and the connection closed (the rest may be coming). */
  private static void tooLarge(HttpServerRequest req, String detail) {
    IngestException.TooLarge e = new IngestException.TooLarge(detail);
    JsonResponses.errorAndClose(req, ErrorResponses.status(e), e.error(), e.detail());
  }

  private void run(RoutingContext ctx, Call call) {
    DeadLetterReplay r = replay.get();
    if (r == null) {
      ctx.fail(
          new IngestException.Unavailable(
              "not_joined", "this node has not joined the table yet; retry shortly", 5));
      return;
    }
    ctx.vertx()
        .executeBlocking((Callable<JsonObject>) () -> call.apply(r), false)
        .onSuccess(answer -> JsonResponses.send(ctx.response(), 200, answer))
        .onFailure(ctx::fail);
  }

  static DeadLetterReplay.Filter filter(JsonObject q) {
    for (String field : q.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw bad("unknown filter '" + field + "'; filters are " + FIELDS);
      }
    }
    List<String> ids = ids(q, "ids");
    List<String> after = ids(q, "after");
    int limit = DEFAULT_LIMIT;
    Object l = q.getValue("limit");
    if (l != null) {
      try {
        limit = Integer.parseInt(String.valueOf(l));
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_LIMIT) {
        throw bad("limit must be a whole number from 1 to " + MAX_LIMIT);
      }
    }
    return new DeadLetterReplay.Filter(
        text(q, "stream"), text(q, "code"), time(q, "since"), time(q, "until"), ids, limit, after);
  }

  /** A list of dead-letter ids: a JSON array, or one string of ids separated by commas. */
  private static List<String> ids(JsonObject q, String field) {
    List<String> ids = new ArrayList<>();
    Object v = q.getValue(field);
    if (v instanceof JsonArray a) {
      a.forEach(o -> ids.add(String.valueOf(o).trim()));
    } else if (v instanceof String text && field.equals("after")) {
      for (String id : text.split(",")) {
        ids.add(id.trim());
      }
    } else if (v != null) {
      throw bad(field + " must be an array of dead-letter ids (partition-sequence)");
    }
    ids.removeIf(String::isEmpty);
    if (field.equals("after")) {
      for (String id : ids) {
        if (!id.matches("\\d{1,9}-\\d{1,18}")) {
          throw bad(
              "after must be dead-letter ids (partition-sequence), as a list's next_after gives;"
                  + " got '"
                  + id
                  + "'");
        }
      }
    }
    return ids;
  }

  private static String text(JsonObject q, String field) {
    Object v = q.getValue(field);
    if (v != null && !(v instanceof String)) {
      throw bad(field + " must be a string");
    }
    return v == null || ((String) v).isBlank() ? null : (String) v;
  }

  private static Instant time(JsonObject q, String field) {
    String v = text(q, field);
    try {
      return v == null ? null : Instant.parse(v);
    } catch (DateTimeParseException e) {
      throw bad(field + " must be an RFC 3339 time in UTC, e.g. 2026-12-06T10:00:00Z");
    }
  }

  private static IngestException.BadRequest bad(String detail) {
    return new IngestException.BadRequest("bad_filter", detail);
  }

  @FunctionalInterface
  private interface Call {
    JsonObject apply(DeadLetterReplay replay) throws Exception;
  }
}
