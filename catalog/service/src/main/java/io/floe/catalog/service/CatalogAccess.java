package io.floe.catalog.service;

import io.floe.catalog.table.FloeTableKeys;
import io.floe.common.auth.Auth;
import io.floe.common.auth.AuthException;
import io.floe.common.auth.Principal;
import io.floe.common.auth.Scope;
import io.floe.common.http.Refusals;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;

/**
 * Who may do what to the table through the catalog service. Reads (config, list, load) need {@code
 * catalog:read} (or {@code catalog:commit}, which nodes hold); creating the namespace and the table
 * and committing appends need {@code catalog:commit}; everything that can destroy or rewrite the
 * table needs {@code admin}: dropping, purging (off unless {@code service.allow-purge}), renaming,
 * registering, namespace property changes, and commits that change the schema, the partitioning,
 * the sort order, the location or the format, expire snapshots, or change a {@code floe.*} property
 * (the state nodes recover from) without appending a snapshot.
 */
final class CatalogAccess implements Handler<RoutingContext> {
  /** Where the caller is kept in the routing context. */
  static final String PRINCIPAL = "floe.principal";

  /** Updates a commit may carry with catalog:commit alone. */
  private static final Set<String> APPEND_UPDATES =
      Set.of(
          "add-snapshot",
          "set-snapshot-ref",
          "set-properties",
          "remove-properties",
          "set-statistics",
          "remove-statistics",
          "set-partition-statistics",
          "remove-partition-statistics");

  private enum Need {
    READ,
    COMMIT,
    ADMIN
  }

  private final Auth auth;
  private final boolean allowPurge;

  CatalogAccess(Auth auth, boolean allowPurge) {
    this.auth = auth;
    this.allowPurge = allowPurge;
  }

  /** The caller, or null after answering 401 with the Iceberg REST catalog API's error object. */
  private Principal authenticate(RoutingContext ctx) {
    try {
      return auth.authenticate(ctx.request().headers());
    } catch (AuthException e) {
      RestErrors.refused(ctx, e);
      return null;
    }
  }

  /** /metrics: open with auth.metrics-open (a local scraper), else a token with read or admin. */
  Handler<RoutingContext> metrics(boolean open) {
    return ctx -> {
      if (open) {
        ctx.next();
        return;
      }
      try {
        Principal p = auth.authenticate(ctx.request().headers());
        if (!p.may(Scope.READ) && !p.may(Scope.ADMIN)) {
          throw AuthException.lacking(p, Scope.READ, Scope.ADMIN);
        }
      } catch (AuthException e) {
        Refusals.send(ctx.response(), e);
        return;
      }
      ctx.next();
    };
  }

  /**
   * Floe's column API: listing and suggesting read the table (read, catalog:read or admin); adding
   * and dropping change its schema (admin).
   */
  Handler<RoutingContext> columns() {
    return ctx -> {
      Principal p;
      try {
        p = auth.authenticate(ctx.request().headers());
        boolean reads =
            ctx.request().method() == HttpMethod.GET || ctx.request().method() == HttpMethod.HEAD;
        boolean allowed =
            reads
                ? p.may(Scope.READ) || p.may(Scope.CATALOG_READ) || p.may(Scope.ADMIN)
                : p.may(Scope.ADMIN);
        if (!allowed) {
          throw mayNot(ctx, p, reads ? "read or catalog:read" : "admin");
        }
      } catch (AuthException e) {
        Refusals.send(ctx.response(), e);
        return;
      }
      ctx.put(PRINCIPAL, p);
      ctx.next();
    };
  }

  @Override
  public void handle(RoutingContext ctx) {
    Principal p = authenticate(ctx);
    if (p == null) {
      return;
    }
    Need need;
    try {
      need = need(ctx);
    } catch (DecodeException | ClassCastException e) {
      RestErrors.send(ctx, 400, "BadRequestException", "malformed request body: " + e.getMessage());
      return;
    }
    boolean allowed =
        switch (need) {
          case READ ->
              p.may(Scope.CATALOG_READ) || p.may(Scope.CATALOG_COMMIT) || p.may(Scope.ADMIN);
          case COMMIT -> p.may(Scope.CATALOG_COMMIT) || p.may(Scope.ADMIN);
          case ADMIN -> p.may(Scope.ADMIN);
        };
    if (!allowed) {
      RestErrors.refused(
          ctx,
          mayNot(
              ctx,
              p,
              need == Need.READ
                  ? "catalog:read"
                  : need == Need.COMMIT ? "catalog:commit" : "admin"));
      return;
    }
    if (purge(ctx) && !allowPurge) {
      RestErrors.send(
          ctx,
          403,
          "ForbiddenException",
          "purging deletes the table's data files and is off:"
              + " set service.allow-purge=true to allow it, or drop without purgeRequested");
      return;
    }
    ctx.put(PRINCIPAL, p);
    ctx.next();
  }

  /** 403: "the token 'x' may not POST /path (needs admin)". */
  private static AuthException mayNot(RoutingContext ctx, Principal p, String needs) {
    return AuthException.forbidden(
        p,
        "may not "
            + ctx.request().method()
            + " "
            + ctx.request().path()
            + " (needs "
            + needs
            + ")");
  }

  private static boolean purge(RoutingContext ctx) {
    return ctx.request().method() == HttpMethod.DELETE
        && Boolean.parseBoolean(ctx.request().getParam("purgeRequested"));
  }

  private static Need need(RoutingContext ctx) {
    HttpMethod method = ctx.request().method();
    String path = ctx.request().path();
    if (method == HttpMethod.GET || method == HttpMethod.HEAD) {
      return Need.READ;
    }
    if (method == HttpMethod.POST) {
      if (path.endsWith("/metrics")) {
        return Need.READ;
      }
      if (path.equals("/v1/namespaces") || path.matches("/v1/namespaces/[^/]+/tables")) {
        return Need.COMMIT;
      }
      if (path.matches("/v1/namespaces/[^/]+/tables/[^/]+")) {
        return commitNeeds(ctx.body().asJsonObject());
      }
    }
    return Need.ADMIN;
  }

  /**
   * An append (with its floe.* state) is a commit; anything else that changes the table is admin.
   */
  private static Need commitNeeds(JsonObject body) {
    JsonArray updates = body == null ? null : body.getJsonArray("updates");
    if (updates == null) {
      return Need.COMMIT;
    }
    boolean appends = false;
    boolean touchesFloe = false;
    for (Object o : updates) {
      JsonObject update = (JsonObject) o;
      String action = update.getString("action", "");
      if (!APPEND_UPDATES.contains(action)) {
        return Need.ADMIN;
      }
      appends |= action.equals("add-snapshot");
      if (action.equals("set-properties")) {
        JsonObject set = update.getJsonObject("updates", new JsonObject());
        touchesFloe |= set.fieldNames().stream().anyMatch(FloeTableKeys::isReserved);
      } else if (action.equals("remove-properties")) {
        JsonArray removals = update.getJsonArray("removals", new JsonArray());
        touchesFloe |= removals.stream().anyMatch(k -> FloeTableKeys.isReserved(String.valueOf(k)));
      }
    }
    return touchesFloe && !appends ? Need.ADMIN : Need.COMMIT;
  }
}
