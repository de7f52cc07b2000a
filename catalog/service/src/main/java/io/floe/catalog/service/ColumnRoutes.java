package io.floe.catalog.service;

import io.floe.catalog.columns.ColumnMapping;
import io.floe.catalog.columns.ColumnMappingException;
import io.floe.catalog.columns.ColumnMappings;
import io.floe.common.auth.Principal;
import io.floe.common.http.JsonResponses;
import io.vertx.core.Handler;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Floe's typed-column API on the catalog service, {@code /floe/v1/columns}: list, add (or widen,
 * re-scope, re-enable), drop, and suggest mappings from recent events. Changes go straight to the
 * JDBC catalog as Iceberg schema evolution plus the {@code floe.column.*} property the nodes
 * follow; each is an audit line. Answers are Floe's JSON ({@code {"error":..,"detail":..}} on
 * failure).
 */
final class ColumnRoutes {
  private static final Logger AUDIT = LoggerFactory.getLogger("floe.audit");
  private static final Set<String> ADD_FIELDS =
      Set.of("name", "type", "path", "streams", "on_mismatch");
  static final String ROOT = "/floe/v1/columns";

  /** The largest request body read (a column's declaration); larger ones are answered 413. */
  static final long MAX_BODY_BYTES = 64 << 10;

  private final Catalog catalog;
  private final TableIdentifier id;
  private final CatalogAccess access;

  /** One change at a time from this service (each is several catalog commits). */
  private final Object changes = new Object();

  ColumnRoutes(Catalog catalog, TableIdentifier id, CatalogAccess access) {
    this.catalog = catalog;
    this.id = id;
    this.access = access;
  }

  void mount(Router router) {
    router.route(ROOT + "*").handler(access.columns());
    router.route(ROOT + "*").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES));
    router
        .get(ROOT + "/suggest")
        .handler(
            blocking(
                ctx -> {
                  String stream = ctx.request().getParam("stream");
                  int sample = intParam(ctx, "sample", 1000, 1, 100_000);
                  if (stream != null) {
                    try {
                      ColumnMapping.checkStreams(List.of(stream));
                    } catch (IllegalArgumentException e) {
                      throw invalid(e.getMessage());
                    }
                  }
                  return ColumnSuggester.suggest(table(), stream, sample);
                }));
    router
        .get(ROOT)
        .handler(
            blocking(
                ctx -> {
                  boolean all = Boolean.parseBoolean(ctx.request().getParam("all"));
                  ColumnMappings.Read read = ColumnMappings.read(table());
                  JsonArray columns = new JsonArray();
                  (all ? read.mappings() : read.active()).forEach(m -> columns.add(json(m)));
                  return new JsonObject()
                      .put("columns", columns)
                      .put("problems", new JsonArray(read.problems()));
                }));
    router
        .post(ROOT)
        .handler(
            blocking(
                ctx -> {
                  ColumnMappings.Request request = request(ctx);
                  ColumnMappings.Result result;
                  synchronized (changes) {
                    result = ColumnMappings.add(table(), request);
                  }
                  if (result.outcome() != ColumnMappings.Outcome.UNCHANGED) {
                    audit(
                        ctx,
                        result.outcome() == ColumnMappings.Outcome.CREATED
                            ? "add-column"
                            : "update-column",
                        result.mapping());
                  }
                  ctx.response()
                      .setStatusCode(
                          result.outcome() == ColumnMappings.Outcome.CREATED ? 201 : 200);
                  return new JsonObject()
                      .put("outcome", result.outcome().name().toLowerCase(Locale.ROOT))
                      .put("column", json(result.mapping()));
                }));
    router
        .delete(ROOT + "/:name")
        .handler(
            blocking(
                ctx -> {
                  ColumnMapping dropped;
                  synchronized (changes) {
                    dropped = ColumnMappings.drop(table(), ctx.pathParam("name"));
                  }
                  audit(ctx, "drop-column", dropped);
                  return new JsonObject().put("outcome", "dropped").put("column", json(dropped));
                }));
  }

  private Table table() {
    try {
      return catalog.loadTable(id);
    } catch (NoSuchTableException e) {
      throw new ColumnMappingException(
          ColumnMappingException.Kind.NOT_FOUND,
          "the table " + id + " does not exist yet: the first node creates it when it starts");
    }
  }

  private static ColumnMappings.Request request(RoutingContext ctx) {
    JsonObject body;
    try {
      body = ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      throw invalid("the body must be a JSON object: " + e.getMessage());
    }
    if (body == null) {
      throw invalid(
          "the body must be a JSON object {\"name\",\"type\",\"path\",\"streams\",\"on_mismatch\"}");
    }
    for (String field : body.fieldNames()) {
      if (!ADD_FIELDS.contains(field)) {
        throw invalid("unknown field '" + field + "'; a column mapping has " + ADD_FIELDS);
      }
    }
    List<String> streams = new ArrayList<>();
    Object s = body.getValue("streams");
    if (s instanceof JsonArray a) {
      for (Object o : a) {
        if (!(o instanceof String name)) {
          throw invalid("streams must be an array of stream names");
        }
        streams.add(name);
      }
    } else if (s != null) {
      throw invalid("streams must be an array of stream names");
    }
    return new ColumnMappings.Request(
        text(body, "name"),
        text(body, "type"),
        text(body, "path"),
        streams,
        text(body, "on_mismatch"));
  }

  private static String text(JsonObject body, String field) {
    Object v = body.getValue(field);
    if (v != null && !(v instanceof String)) {
      throw invalid(field + " must be a string");
    }
    return (String) v;
  }

  static JsonObject json(ColumnMapping m) {
    return new JsonObject()
        .put("name", m.name())
        .put("type", m.typeText())
        .put("path", m.pathText())
        .put("streams", new JsonArray(m.streams()))
        .put("on_mismatch", m.onMismatch().text())
        .put("dropped", m.dropped())
        .put("field_id", m.fieldId());
  }

  private static int intParam(RoutingContext ctx, String name, int fallback, int min, int max) {
    String v = ctx.request().getParam(name);
    if (v == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= min && n <= max) {
        return n;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw invalid(name + " must be a whole number from " + min + " to " + max);
  }

  private static ColumnMappingException invalid(String message) {
    return new ColumnMappingException(ColumnMappingException.Kind.INVALID, message);
  }

  private static void audit(RoutingContext ctx, String action, ColumnMapping m) {
    Principal p = ctx.get(CatalogAccess.PRINCIPAL);
    AUDIT.info(
        "audit principal={} action={} target={} type={} path={} streams={} on_mismatch={}",
        p == null ? "?" : p.name(),
        action,
        m.name(),
        m.typeText(),
        m.pathText(),
        m.streams().isEmpty() ? "*" : String.join(",", m.streams()),
        m.onMismatch().text());
  }

  private static Handler<RoutingContext> blocking(ColumnCall call) {
    return ctx ->
        ctx.vertx()
            .executeBlocking((Callable<JsonObject>) () -> call.apply(ctx), false)
            .onSuccess(
                body -> JsonResponses.send(ctx.response(), ctx.response().getStatusCode(), body))
            .onFailure(
                e -> {
                  if (e instanceof ColumnMappingException c) {
                    int status =
                        switch (c.kind()) {
                          case INVALID -> 400;
                          case CONFLICT -> 409;
                          case NOT_FOUND -> 404;
                        };
                    String code =
                        switch (c.kind()) {
                          case INVALID -> "invalid_column";
                          case CONFLICT -> "column_conflict";
                          case NOT_FOUND -> "not_found";
                        };
                    JsonResponses.error(ctx.response(), status, code, c.getMessage());
                  } else {
                    LoggerFactory.getLogger(ColumnRoutes.class)
                        .warn("{} {} failed", ctx.request().method(), ctx.request().path(), e);
                    JsonResponses.error(
                        ctx.response(), 503, "catalog_unavailable", String.valueOf(e.getMessage()));
                  }
                });
  }

  @FunctionalInterface
  private interface ColumnCall {
    JsonObject apply(RoutingContext ctx) throws Exception;
  }
}
