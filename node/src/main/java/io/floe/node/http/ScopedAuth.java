package io.floe.node.http;

import io.floe.common.auth.Auth;
import io.floe.common.auth.AuthException;
import io.floe.common.auth.Principal;
import io.floe.common.auth.Quotas;
import io.floe.common.auth.Scope;
import io.floe.node.error.IngestException;
import io.vertx.core.Handler;
import io.vertx.ext.web.RoutingContext;

/**
 * The node's route guards: who is calling ({@code Authorization: Bearer}) and whether that token
 * may do this (401 unknown, 403 lacking the scope). A token with the {@code router} scope is a
 * router that authenticated the producer itself: it may send events to any stream and read receipts
 * on the producer's behalf (named by {@code X-Floe-Principal}, for the logs), and nothing else.
 */
public final class ScopedAuth {
  /** The producer a router forwards for. */
  public static final String PRINCIPAL_HEADER = "X-Floe-Principal";

  /** Where the caller is kept in the routing context. */
  public static final String PRINCIPAL = "floe.principal";

  private final Auth auth;
  private final boolean openMetrics;
  private final Quotas quotas;

  public ScopedAuth(Auth auth, boolean openMetrics, Quotas quotas) {
    this.auth = auth;
    this.openMetrics = openMetrics;
    this.quotas = quotas;
  }

  /**
   * Events to {@code :stream}: ingest for that stream (within the token's quota: 429 when it is
   * used up), or a router (which enforces its producers' quotas itself).
   */
  public Handler<RoutingContext> ingest() {
    return ctx -> {
      Principal p =
          guard(
              ctx,
              q -> q.mayIngest(ctx.pathParam("stream")) || q.may(Scope.ROUTER),
              "may not send events to stream '" + ctx.pathParam("stream") + "'");
      if (!p.may(Scope.ROUTER)) {
        long wait = quotas.admit(p);
        if (wait > 0) {
          throw new IngestException.TooManyRequests(
              "the token '"
                  + p.name()
                  + "' has used its quota"
                  + " (events-per-second / bytes-per-second in the token file); retry after "
                  + wait
                  + " s",
              wait);
        }
      }
      ctx.next();
    };
  }

  /**
   * Charges an accepted request to its token's quota (not to a router: it charged its producer).
   */
  public void charge(RoutingContext ctx, long events, long bytes) {
    Principal p = ctx.get(PRINCIPAL);
    if (p != null && !p.may(Scope.ROUTER)) {
      quotas.charge(p.name(), events, bytes);
    }
  }

  /** Receipts: ingest, read or a router. */
  public Handler<RoutingContext> receipts() {
    return ctx -> {
      guard(
          ctx,
          p -> p.may(Scope.INGEST) || p.may(Scope.READ) || p.may(Scope.ROUTER),
          "lacks the scope ingest or read");
      ctx.next();
    };
  }

  /** A route that needs {@code scope}. */
  public Handler<RoutingContext> require(Scope scope) {
    return ctx -> {
      guard(ctx, p -> p.may(scope), "lacks the scope " + scope.text());
      ctx.next();
    };
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

  private Principal guard(
      RoutingContext ctx, java.util.function.Predicate<Principal> allowed, String refusal) {
    Principal p;
    try {
      p = auth.authenticate(ctx.request().headers());
    } catch (AuthException e) {
      throw new IngestException.Unauthorized(e.getMessage());
    }
    if (!allowed.test(p)) {
      throw new IngestException.Forbidden("the token '" + p.name() + "' " + refusal);
    }
    ctx.put(PRINCIPAL, p);
    return p;
  }
}
