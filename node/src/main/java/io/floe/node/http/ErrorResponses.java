package io.floe.node.http;

import io.floe.common.auth.AuthException;
import io.floe.common.http.JsonResponses;
import io.floe.common.http.Refusals;
import io.floe.node.error.IngestException;
import io.floe.node.metrics.NodeMetrics;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place where refusals and failures become HTTP answers: JSON {@code {"error","detail"}}. A
 * refused caller ({@link AuthException}) is answered by {@link Refusals}, as the router and the
 * catalog service answer it.
 */
public final class ErrorResponses {
  private static final Logger LOG = LoggerFactory.getLogger(ErrorResponses.class);

  private static final int STORAGE_RETRY_AFTER_SECONDS = 5;

  private final NodeMetrics metrics;

  public ErrorResponses(NodeMetrics metrics) {
    this.metrics = metrics;
  }

  /** The HTTP status of each kind of refusal: the only place these codes are chosen. */
  public static int status(IngestException e) {
    if (e instanceof IngestException.BadRequest) {
      return 400;
    } else if (e instanceof IngestException.BodyTimeout) {
      return 408;
    } else if (e instanceof IngestException.TooLarge) {
      return 413;
    } else if (e instanceof IngestException.UnsupportedMedia) {
      return 415;
    } else if (e instanceof IngestException.KeyReused) {
      return 422;
    } else if (e instanceof IngestException.Unavailable
        || e instanceof IngestException.StorageFailed) {
      return 503;
    }
    throw new IllegalArgumentException("no status for " + e.getClass().getName());
  }

  /** Answers a refusal and counts it by reason. */
  public void send(RoutingContext ctx, IngestException e) {
    if (e instanceof IngestException.Unavailable u) {
      metrics.rejected(u.reason());
      JsonResponses.error(ctx.response(), status(e), e.error(), e.detail(), u.retryAfterSeconds());
    } else if (e instanceof IngestException.BodyTimeout) {
      // the rest of the body may still trickle in: this connection is not worth keeping
      metrics.rejected(e.error());
      JsonResponses.errorAndClose(ctx.request(), status(e), e.error(), e.detail());
    } else if (e instanceof IngestException.StorageFailed) {
      metrics.rejected(e.error());
      JsonResponses.error(
          ctx.response(), status(e), e.error(), e.detail(), STORAGE_RETRY_AFTER_SECONDS);
    } else {
      metrics.rejected(e.error());
      JsonResponses.error(ctx.response(), status(e), e.error(), e.detail());
    }
  }

  /** Answers with a status and a JSON error body. */
  public static void send(HttpServerResponse response, int status, String error, String detail) {
    JsonResponses.error(response, status, error, detail);
  }

  /** Failure handler: maps whatever failed the routing context. */
  public void handleFailure(RoutingContext ctx) {
    Throwable failure = ctx.failure();
    if (ctx.response().ended()) {
      return; // answered where the failure was found (broken chunked framing)
    }
    if (failure instanceof IngestException e) {
      send(ctx, e);
      return;
    }
    if (failure instanceof AuthException e) {
      metrics.rejected(e.error());
      Refusals.send(ctx.response(), e);
      return;
    }
    int status = ctx.statusCode();
    switch (status) {
      case 404 ->
          send(
              ctx.response(),
              404,
              "not_found",
              "no route for " + ctx.request().method() + " " + ctx.request().path());
      case 405 ->
          send(
              ctx.response(),
              405,
              "method_not_allowed",
              ctx.request().method() + " is not allowed on " + ctx.request().path());
      case 413 ->
          send(
              ctx,
              new IngestException.TooLarge(
                  "request body is over the limit (ingest.max-body-bytes)"));
      case 400 ->
          send(
              ctx.response(),
              400,
              "bad_request",
              failure == null ? "bad request" : String.valueOf(failure.getMessage()));
      default -> {
        LOG.error("request {} {} failed", ctx.request().method(), ctx.request().path(), failure);
        send(
            ctx.response(),
            500,
            "internal_error",
            failure == null
                ? "internal error"
                : failure.getClass().getSimpleName() + ": " + failure.getMessage());
      }
    }
  }
}
