package io.floe.catalog.service;

import io.floe.common.auth.Auth;
import io.floe.common.auth.AuthException;
import io.floe.common.auth.Principal;
import io.floe.common.auth.Scope;
import io.floe.common.http.Refusals;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.exceptions.BadRequestException;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.rest.requests.UpdateTableRequestParser;

/**
 * Who may do what to the table through the catalog service. Reads (config, list, load) need {@code
 * catalog:read} (or {@code catalog:commit}, which nodes hold); creating the namespace and the table
 * and committing a node's claims and flushes ({@link NodeCommitPolicy}) need {@code
 * catalog:commit}; everything else that changes the table needs {@code admin}: dropping, purging
 * (off unless {@code service.allow-purge}), renaming, registering, namespace property changes, and
 * every other commit (rollbacks, deletes, overwrites, schema, partitioning, sort order, location,
 * format, expiry, other {@code floe.*} state).
 *
 * <p>The caller is authenticated and authorised by route before the body is read ({@link #handle});
 * a commit's or a create's body is checked once read ({@link #commits}). Every refusal is an audit
 * line.
 */
final class CatalogAccess implements Handler<RoutingContext> {
  /** Where the caller is kept in the routing context. */
  static final String PRINCIPAL = "floe.principal";

  private static final Pattern TABLES = Pattern.compile("/v1/namespaces/[^/]+/tables");
  private static final Pattern TABLE = Pattern.compile("/v1/namespaces/[^/]+/tables/[^/]+");
  private static final Pattern METRICS =
      Pattern.compile("/v1/namespaces/[^/]+/tables/[^/]+/metrics");

  private enum Need {
    READ,
    COMMIT,
    ADMIN
  }

  private final Auth auth;
  private final boolean allowPurge;
  private final Catalog catalog;

  /**
   * @param catalog the backing catalog, which a {@code catalog:commit} caller's commit is checked
   *     against
   */
  CatalogAccess(Auth auth, boolean allowPurge, Catalog catalog) {
    this.auth = auth;
    this.allowPurge = allowPurge;
    this.catalog = catalog;
  }

  /** /metrics: open with auth.metrics-open (a local scraper), else a token with read or admin. */
  Handler<RoutingContext> metrics(boolean open) {
    return ctx -> {
      if (open) {
        ctx.next();
        return;
      }
      Principal p = null;
      try {
        p = auth.authenticate(ctx.request().headers());
        if (!p.may(Scope.READ) && !p.may(Scope.ADMIN)) {
          throw AuthException.lacking(p, Scope.READ, Scope.ADMIN);
        }
      } catch (AuthException e) {
        refuse(ctx, p, e, false);
        return;
      }
      ctx.next();
    };
  }

  /**
   * Floe's column API: listing and suggesting read the table (read, catalog:read or admin); adding
   * and dropping change its schema (admin). Runs before the body is read.
   */
  Handler<RoutingContext> columns() {
    return ctx -> {
      Principal p = null;
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
        refuse(ctx, p, e, false);
        return;
      }
      ctx.put(PRINCIPAL, p);
      ctx.next();
    };
  }

  /** The Iceberg REST API, by route, before the body is read. */
  @Override
  public void handle(RoutingContext ctx) {
    Principal p;
    try {
      p = auth.authenticate(ctx.request().headers());
    } catch (AuthException e) {
      refuse(ctx, null, e, true);
      return;
    }
    Need need = need(ctx);
    boolean allowed =
        switch (need) {
          case READ ->
              p.may(Scope.CATALOG_READ) || p.may(Scope.CATALOG_COMMIT) || p.may(Scope.ADMIN);
          case COMMIT -> p.may(Scope.CATALOG_COMMIT) || p.may(Scope.ADMIN);
          case ADMIN -> p.may(Scope.ADMIN);
        };
    if (!allowed) {
      refuse(
          ctx,
          p,
          mayNot(
              ctx,
              p,
              switch (need) {
                case READ -> "catalog:read";
                case COMMIT -> "catalog:commit";
                case ADMIN -> "admin";
              }),
          true);
      return;
    }
    if (purge(ctx) && !allowPurge) {
      refuse(
          ctx,
          p,
          AuthException.forbidden(
              p,
              "may not purge: purging deletes the table's data files and is off;"
                  + " set service.allow-purge=true to allow it, or drop without purgeRequested"),
          true);
      return;
    }
    ctx.put(PRINCIPAL, p);
    ctx.next();
  }

  /**
   * Creates and commits, once their body is read: a {@code catalog:commit} caller's must be a
   * node's ({@link NodeCommitPolicy}); checked on a worker thread, since it loads the table and
   * reads the new snapshot's manifest list. Also names what a commit does for its audit line.
   */
  Handler<RoutingContext> commits() {
    return ctx -> {
      Principal p = ctx.get(PRINCIPAL);
      ctx.vertx()
          .executeBlocking((Callable<Void>) () -> review(ctx, p), false)
          .onSuccess(v -> ctx.next())
          .onFailure(
              e -> {
                if (e instanceof NodeCommitPolicy.Refused r) {
                  refuse(ctx, p, mayNot(ctx, p, "admin", r.getMessage()), true);
                } else {
                  RestErrors.send(ctx, e);
                }
              });
    };
  }

  private Void review(RoutingContext ctx, Principal p) {
    String body = ctx.body().asString();
    if (body == null || body.isEmpty()) {
      throw new BadRequestException("request body is missing");
    }
    if (ctx.pathParam("table") == null) {
      if (!p.may(Scope.ADMIN)) {
        JsonObject create = json(body);
        boolean staged;
        Set<String> properties;
        try {
          staged = create.getBoolean("stage-create", false);
          properties = create.getJsonObject("properties", new JsonObject()).fieldNames();
        } catch (ClassCastException e) {
          throw new BadRequestException(e, "malformed create request: %s", e.getMessage());
        }
        NodeCommitPolicy.checkCreate(staged, properties);
      }
      return null;
    }
    UpdateTableRequest request;
    try {
      request = UpdateTableRequestParser.fromJson(body);
    } catch (RuntimeException e) {
      throw new BadRequestException(e, "malformed commit: %s", e.getMessage());
    }
    ctx.put(CatalogAudit.COMMIT_ACTION, CatalogAudit.action(request));
    if (!p.may(Scope.ADMIN)) {
      NodeCommitPolicy.check(p, request, catalog.loadTable(RestCatalogRoutes.table(ctx)));
    }
    return null;
  }

  private static JsonObject json(String body) {
    try {
      return new JsonObject(body);
    } catch (RuntimeException e) {
      throw new BadRequestException(e, "malformed request body: %s", e.getMessage());
    }
  }

  /**
   * Answers a refusal and writes its audit line. A body not read yet is never read: the answer
   * closes the connection (HTTP/1.x).
   *
   * @param restApi the Iceberg REST API's error object, else Floe's JSON error
   */
  private static void refuse(RoutingContext ctx, Principal p, AuthException e, boolean restApi) {
    CatalogAudit.refused(ctx, p, e);
    closeIfBodyUnread(ctx);
    if (restApi) {
      RestErrors.refused(ctx, e);
    } else {
      Refusals.send(ctx.response(), e);
    }
  }

  /**
   * Before answering a request whose body is not read to its end (refused, or over the limit): the
   * body is never read on, so the answer says {@code Connection: close} and closes the connection
   * once written (HTTP/1.x; on HTTP/2 flow control holds the body back).
   */
  static void closeIfBodyUnread(RoutingContext ctx) {
    if (ctx.request().isEnded()
        || ctx.request().version() == HttpVersion.HTTP_2
        || ctx.response().headWritten()) {
      return;
    }
    ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    ctx.response().bodyEndHandler(v -> ctx.request().connection().close());
  }

  /** 403: "the token 'x' may not POST /path (needs admin)". */
  private static AuthException mayNot(RoutingContext ctx, Principal p, String needs) {
    return mayNot(ctx, p, needs, null);
  }

  /** 403: "the token 'x' may not POST /path (needs admin): why". */
  private static AuthException mayNot(RoutingContext ctx, Principal p, String needs, String why) {
    return AuthException.forbidden(
        p,
        "may not "
            + ctx.request().method()
            + " "
            + ctx.request().path()
            + " (needs "
            + needs
            + ")"
            + (why == null ? "" : ": " + why));
  }

  private static boolean purge(RoutingContext ctx) {
    return ctx.request().method() == HttpMethod.DELETE
        && Boolean.parseBoolean(ctx.request().getParam("purgeRequested"));
  }

  /** What a route needs; a commit's body is checked once read ({@link #commits}). */
  private static Need need(RoutingContext ctx) {
    HttpMethod method = ctx.request().method();
    String path = ctx.request().path();
    if (method == HttpMethod.GET || method == HttpMethod.HEAD) {
      return Need.READ;
    }
    if (method == HttpMethod.POST) {
      if (METRICS.matcher(path).matches()) {
        return Need.READ;
      }
      if (path.equals("/v1/namespaces")
          || TABLES.matcher(path).matches()
          || TABLE.matcher(path).matches()) {
        return Need.COMMIT;
      }
    }
    return Need.ADMIN;
  }
}
