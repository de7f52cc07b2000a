package io.floe.node.http;

import io.floe.common.auth.Auth;
import io.floe.common.auth.AuthException;
import io.floe.common.auth.Principal;
import io.floe.common.auth.Quotas;
import io.floe.common.auth.Scope;
import io.floe.common.http.FloeHttp;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;

/**
 * The node's route guards: who is calling ({@code Authorization: Bearer}) and whether that token
 * may do this (401 unknown, 403 lacking the scope, 429 over its quota): each refusal is an {@link
 * AuthException}, which {@link ErrorResponses} answers. A token with the {@code router} scope is a
 * router that authenticated the producer itself: it may send events to any stream and read receipts
 * on the producer's behalf (named by {@link FloeHttp#PRINCIPAL_HEADER}: for the logs, and as the
 * owner of the request's idempotency key), and read the node's status and metrics (which its
 * operator console samples: {@link #read()}), and nothing else.
 */
public final class ScopedAuth {
  /** Where the caller is kept in the routing context. */
  public static final String PRINCIPAL = "floe.principal";

  /** Where a producer's {@link Quotas.Admission} is kept in the routing context. */
  private static final String ADMISSION = "floe.admission";

  private final Auth auth;
  private final boolean openMetrics;
  private final Quotas quotas;

  public ScopedAuth(Auth auth, boolean openMetrics, Quotas quotas) {
    this.auth = auth;
    this.openMetrics = openMetrics;
    this.quotas = quotas;
  }

  /**
   * Events to {@code :stream}: ingest for that stream (within the token's quotas: 429 when it has
   * too many requests in flight or a bucket is used up; see {@link Quotas}), or a router (which
   * enforces its producers' quotas itself).
   */
  public Handler<RoutingContext> ingest() {
    return ctx -> {
      Principal p = authenticate(ctx);
      String stream = ctx.pathParam("stream");
      if (!p.mayIngest(stream) && !p.may(Scope.ROUTER)) {
        throw AuthException.forbidden(p, "may not send events to stream '" + stream + "'");
      }
      if (!p.may(Scope.ROUTER)) {
        HttpServerRequest req = ctx.request();
        Quotas.Admission admission = quotas.admit(p, FloeHttp.declaredLength(req));
        ctx.put(ADMISSION, admission);
        ctx.addEndHandler(ended -> admission.end(req.bytesRead()));
      }
      admitted(ctx, p);
    };
  }

  /**
   * A request stored {@code events}: charged to its token's quota now (not to a router: it charged
   * its producer).
   */
  public void stored(RoutingContext ctx, long events) {
    Quotas.Admission admission = ctx.get(ADMISSION);
    if (admission != null) {
      admission.stored(events);
    }
  }

  /**
   * The producer a request comes from, whose idempotency keys it uses: the one a router names in
   * {@link FloeHttp#PRINCIPAL_HEADER} (believed from a router only), else the caller itself.
   */
  public static String producer(RoutingContext ctx) {
    Principal caller = ctx.get(PRINCIPAL);
    if (caller == null) {
      return Principal.ANONYMOUS.name();
    }
    String named = ctx.request().getHeader(FloeHttp.PRINCIPAL_HEADER);
    return named != null && caller.may(Scope.ROUTER) ? named : caller.name();
  }

  /** Receipts: ingest, read or a router. */
  public Handler<RoutingContext> receipts() {
    return ctx -> {
      Principal p = authenticate(ctx);
      if (!p.may(Scope.INGEST) && !p.may(Scope.READ) && !p.may(Scope.ROUTER)) {
        throw AuthException.lacking(p, Scope.INGEST, Scope.READ);
      }
      admitted(ctx, p);
    };
  }

  /** A route that needs {@code scope}. */
  public Handler<RoutingContext> require(Scope scope) {
    return ctx -> {
      Principal p = authenticate(ctx);
      if (!p.may(scope)) {
        throw AuthException.lacking(p, scope);
      }
      admitted(ctx, p);
    };
  }

  /** Status and metrics: read, or a router (its console samples them). */
  public Handler<RoutingContext> read() {
    return ctx -> {
      Principal p = authenticate(ctx);
      if (!p.may(Scope.READ) && !p.may(Scope.ROUTER)) {
        throw AuthException.lacking(p, Scope.READ);
      }
      admitted(ctx, p);
    };
  }

  /**
   * /metrics: {@link #read()}, unless auth.metrics-open lets a local scraper in without a token.
   */
  public Handler<RoutingContext> metrics() {
    Handler<RoutingContext> read = read();
    return ctx -> {
      if (openMetrics) {
        ctx.next();
      } else {
        read.handle(ctx);
      }
    };
  }

  /** The caller: 401 (an {@link AuthException}) when the token is missing or unknown. */
  private Principal authenticate(RoutingContext ctx) {
    return auth.authenticate(ctx.request().headers());
  }

  private static void admitted(RoutingContext ctx, Principal p) {
    ctx.put(PRINCIPAL, p);
    ctx.next();
  }
}
