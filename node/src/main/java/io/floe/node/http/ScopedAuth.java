package io.floe.node.http;

import io.floe.common.auth.Auth;
import io.floe.common.auth.AuthException;
import io.floe.common.auth.Principal;
import io.floe.common.auth.Scope;
import io.floe.node.error.IngestException;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;

/**
 * The node's route guards: who is calling ({@code Authorization: Bearer}) and whether that token
 * may do this (401 unknown, 403 lacking the scope). A token with the {@code router} scope is a
 * router that authenticated the producer itself: it may send events to any stream and read
 * receipts on the producer's behalf (named by {@code X-Floe-Principal}, for the logs), and
 * nothing else.
 */
public final class ScopedAuth {
  /** The producer a router forwards for. */
  public static final String PRINCIPAL_HEADER = "X-Floe-Principal";
  /** Where the caller is kept in the routing context. */
  public static final String PRINCIPAL = "floe.principal";

  private final Auth auth;
  private final boolean openMetrics;

  public ScopedAuth(Auth auth, boolean openMetrics) {
    this.auth = auth;
    this.openMetrics = openMetrics;
  }

  /** Events to {@code :stream}: ingest for that stream, or a router. */
  public Handler<RoutingContext> ingest() {
    return ctx -> guard(ctx, p -> p.mayIngest(ctx.pathParam("stream")) || p.may(Scope.ROUTER),
        "may not send events to stream '" + ctx.pathParam("stream") + "'");
  }

  /** Receipts: ingest, read or a router. */
  public Handler<RoutingContext> receipts() {
    return ctx -> guard(ctx, p -> p.may(Scope.INGEST) || p.may(Scope.READ) || p.may(Scope.ROUTER),
        "lacks the scope ingest or read");
  }

  /** A route that needs {@code scope}. */
  public Handler<RoutingContext> require(Scope scope) {
    return ctx -> guard(ctx, p -> p.may(scope), "lacks the scope " + scope.text());
  }

  /** /metrics: read, unless auth.metrics-open lets a local scraper in without a token. */
  public Handler<RoutingContext> metrics() {
    Handler<RoutingContext> read = require(Scope.READ);
    return ctx -> {
      if (openMetrics) {
        ctx.next();
      } else {
        read.handle(ctx);
      }
    };
  }

  private void guard(RoutingContext ctx, java.util.function.Predicate<Principal> allowed, String refusal) {
    Principal p;
    try {
      p = auth.authenticate(ctx.request().getHeader(HttpHeaders.AUTHORIZATION));
    } catch (AuthException e) {
      throw new IngestException.Unauthorized(e.getMessage());
    }
    if (!allowed.test(p)) {
      throw new IngestException.Forbidden("the token '" + p.name() + "' " + refusal);
    }
    ctx.put(PRINCIPAL, p);
    ctx.next();
  }
}
