package io.floe.common.http;

import io.floe.common.auth.AuthException;
import io.vertx.core.http.HttpServerResponse;

/**
 * How every Floe listener (node, router, catalog service) answers a refused caller: the same
 * status, headers and body for the same {@link AuthException}. 401 carries {@code WWW-Authenticate:
 * Bearer realm="floe"}, 429 carries {@code Retry-After}, and the body is Floe's JSON error {@code
 * {"error": e.error(), "detail": e.getMessage()}}.
 */
public final class Refusals {
  /** The challenge of a 401: a bearer token, for the realm every Floe service shares. */
  public static final String BEARER_CHALLENGE = "Bearer realm=\"floe\"";

  private Refusals() {}

  /** Answers the refusal {@code e}, unless the response was already answered or closed. */
  public static void send(HttpServerResponse response, AuthException e) {
    putHeaders(response, e);
    JsonResponses.error(response, e.status(), e.error(), e.getMessage());
  }

  /**
   * Puts only the headers of the refusal {@code e}: for an answer whose body another contract fixes
   * (the Iceberg REST catalog API's error object).
   */
  public static void putHeaders(HttpServerResponse response, AuthException e) {
    if (response.ended() || response.closed()) {
      return;
    }
    if (e.status() == 401) {
      response.putHeader(FloeHttp.WWW_AUTHENTICATE, BEARER_CHALLENGE);
    } else if (e.retryAfterSeconds() > 0) {
      response.putHeader(FloeHttp.RETRY_AFTER, Long.toString(e.retryAfterSeconds()));
    }
  }
}
