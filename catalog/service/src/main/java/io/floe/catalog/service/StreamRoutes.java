package io.floe.catalog.service;

import io.floe.catalog.streams.OnError;
import io.floe.catalog.streams.StreamPolicies;
import io.floe.common.auth.Principal;
import io.floe.common.http.JsonResponses;
import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Floe's stream-policy API on the catalog service, {@code /floe/v1/streams}: list the patterns and
 * their error policy ({@code GET}), set one ({@code PUT /floe/v1/streams/{pattern}} with {@code
 * {"on_error":"dead_letter"}}), remove one ({@code DELETE}). The policies are {@code
 * floe.stream.on-error.*} table properties that the nodes follow; each change is an audit line.
 * Reading needs read, catalog:read or admin; changing needs admin (the column API's rules).
 */
final class StreamRoutes {
  private static final Logger AUDIT = LoggerFactory.getLogger("floe.audit");
  static final String ROOT = "/floe/v1/streams";
  private static final Set<String> FIELDS = Set.of("on_error");

  private final Catalog catalog;
  private final TableIdentifier id;
  private final CatalogAccess access;

  StreamRoutes(Catalog catalog, TableIdentifier id, CatalogAccess access) {
    this.catalog = catalog;
    this.id = id;
    this.access = access;
  }

  void mount(Router router) {
    router.route(ROOT + "*").handler(access.columns());
    router
        .route(ROOT + "*")
        .handler(BodyHandler.create(false).setBodyLimit(ColumnRoutes.MAX_BODY_BYTES));
    router.get(ROOT).handler(blocking(ctx -> json(StreamPolicies.read(table()))));
    router
        .put(ROOT + "/:pattern")
        .handler(
            blocking(
                ctx -> {
                  String pattern = StreamPolicies.checkPattern(ctx.pathParam("pattern"));
                  OnError onError = OnError.parse(onError(ctx));
                  Table table = table();
                  boolean changed;
                  synchronized (this) {
                    changed = StreamPolicies.set(table, pattern, onError);
                  }
                  if (changed) {
                    audit(ctx, "set-stream-policy", pattern, onError.text());
                  }
                  return new JsonObject()
                      .put("outcome", changed ? "updated" : "unchanged")
                      .put("pattern", pattern)
                      .put("on_error", onError.text());
                }));
    router
        .delete(ROOT + "/:pattern")
        .handler(
            blocking(
                ctx -> {
                  String pattern = StreamPolicies.checkPattern(ctx.pathParam("pattern"));
                  boolean removed;
                  synchronized (this) {
                    removed = StreamPolicies.remove(table(), pattern);
                  }
                  if (!removed) {
                    throw new NotFound("no stream policy for the pattern '" + pattern + "'");
                  }
                  audit(ctx, "remove-stream-policy", pattern, "-");
                  return new JsonObject().put("outcome", "removed").put("pattern", pattern);
                }));
  }

  static JsonObject json(StreamPolicies read) {
    JsonArray streams = new JsonArray();
    read.policies()
        .forEach(
            p ->
                streams.add(
                    new JsonObject()
                        .put("pattern", p.pattern())
                        .put("on_error", p.onError().text())));
    return new JsonObject()
        .put("streams", streams)
        .put("default", OnError.DEFAULT.text())
        .put("problems", new JsonArray(read.problems()));
  }

  private static String onError(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      body = null;
    }
    if (body == null || !(body.getValue("on_error") instanceof String text)) {
      throw new IllegalArgumentException(
          "the body must be a JSON object {\"on_error\":\"reject|dead_letter|per_request\"}");
    }
    for (String field : body.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new IllegalArgumentException(
            "unknown field '" + field + "'; a stream policy has " + FIELDS);
      }
    }
    return text;
  }

  private Table table() {
    try {
      return catalog.loadTable(id);
    } catch (NoSuchTableException e) {
      throw new NotFound(
          "the table " + id + " does not exist yet: the first node creates it when it starts");
    }
  }

  private static void audit(RoutingContext ctx, String action, String pattern, String onError) {
    Principal p = ctx.get(CatalogAccess.PRINCIPAL);
    AUDIT.info(
        "audit principal={} action={} target={} on_error={}",
        p == null ? "?" : p.name(),
        action,
        pattern,
        onError);
  }

  /** 404: no such table or pattern. */
  private static final class NotFound extends RuntimeException {
    NotFound(String message) {
      super(message, null, false, false);
    }
  }

  private static Handler<RoutingContext> blocking(Call call) {
    return ctx ->
        ctx.vertx()
            .executeBlocking((Callable<JsonObject>) () -> call.apply(ctx), false)
            .onSuccess(body -> JsonResponses.send(ctx.response(), 200, body))
            .onFailure(
                e -> {
                  if (e instanceof IllegalArgumentException) {
                    JsonResponses.error(
                        ctx.response(), 400, "invalid_stream_policy", e.getMessage());
                  } else if (e instanceof NotFound) {
                    JsonResponses.error(ctx.response(), 404, "not_found", e.getMessage());
                  } else {
                    LoggerFactory.getLogger(StreamRoutes.class)
                        .warn("{} {} failed", ctx.request().method(), ctx.request().path(), e);
                    JsonResponses.error(
                        ctx.response(), 503, "catalog_unavailable", String.valueOf(e.getMessage()));
                  }
                });
  }

  @FunctionalInterface
  private interface Call {
    JsonObject apply(RoutingContext ctx) throws Exception;
  }
}
