package io.floe.catalog.service;

import com.fasterxml.jackson.core.JacksonException;
import io.floe.common.auth.AuthException;
import io.floe.common.http.JsonResponses;
import io.floe.common.http.Refusals;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.RoutingContext;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.BadRequestException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.exceptions.NamespaceNotEmptyException;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.NoSuchViewException;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.rest.responses.ErrorResponse;
import org.apache.iceberg.rest.responses.ErrorResponseParser;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Maps exceptions to Iceberg REST error responses, once, with the status codes the spec gives. */
final class RestErrors {
  private static final Logger LOG = LoggerFactory.getLogger(RestErrors.class);

  private RestErrors() {}

  static int status(Throwable e) {
    if (e instanceof NoSuchNamespaceException
        || e instanceof NoSuchTableException
        || e instanceof NoSuchViewException) {
      return 404;
    }
    if (e instanceof AlreadyExistsException
        || e instanceof CommitFailedException
        || e instanceof NamespaceNotEmptyException) {
      return 409;
    }
    if (e instanceof ValidationException
        || e instanceof BadRequestException
        || e instanceof IllegalArgumentException
        || e instanceof JacksonException) {
      return 400;
    }
    if (e instanceof NotAuthorizedException) {
      return 401;
    }
    if (e instanceof ForbiddenException) {
      return 403;
    }
    if (e instanceof UnsupportedOperationException) {
      return 406;
    }
    if (e instanceof CommitStateUnknownException) {
      return 500;
    }
    return 500;
  }

  static void send(RoutingContext ctx, Throwable e) {
    int status = status(e);
    if (status >= 500) {
      LOG.error("{} {} failed", ctx.request().method(), ctx.request().path(), e);
    }
    send(ctx, status, e.getClass().getSimpleName(), String.valueOf(e.getMessage()));
  }

  /**
   * A refused caller on the Iceberg REST catalog API: the headers and message every Floe service
   * gives ({@link Refusals}), in the error object the Iceberg REST spec requires, so that Iceberg
   * clients raise their own NotAuthorizedException or ForbiddenException.
   */
  static void refused(RoutingContext ctx, AuthException e) {
    Refusals.putHeaders(ctx.response(), e);
    send(
        ctx,
        e.status(),
        e.status() == 401 ? "NotAuthorizedException" : "ForbiddenException",
        e.getMessage());
  }

  static void send(RoutingContext ctx, int status, String type, String message) {
    if (ctx.response().ended()) {
      return;
    }
    ErrorResponse error =
        ErrorResponse.builder().responseCode(status).withType(type).withMessage(message).build();
    JsonResponses.send(ctx.response(), status, Buffer.buffer(ErrorResponseParser.toJson(error)));
  }
}
