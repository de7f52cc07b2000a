package io.floe.common.http;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * The one writer of JSON answers for every Floe listener (node, router, catalog service). Floe's own
 * errors are {@code {"error": kind, "detail": what was wrong and what to do}}; the catalog service
 * hands its Iceberg REST error bodies to {@link #send} so that the status, content type and "answer
 * once" rule are the same everywhere.
 */
public final class JsonResponses {
  public static final String CONTENT_TYPE = "application/json";

  private JsonResponses() {}

  /** Answers {@code status} with a JSON body, unless the response was already answered or closed. */
  public static void send(HttpServerResponse response, int status, Buffer json) {
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(status).putHeader("Content-Type", CONTENT_TYPE).end(json);
  }

  /** Answers {@code status} with {@code body}. */
  public static void send(HttpServerResponse response, int status, JsonObject body) {
    send(response, status, body.toBuffer());
  }

  /** Answers a Floe error: {@code {"error": error, "detail": detail}}. */
  public static void error(HttpServerResponse response, int status, String error, String detail) {
    send(response, status, errorBody(error, detail));
  }

  /** A Floe error answer that tells the client when to retry ({@code Retry-After}, seconds). */
  public static void error(HttpServerResponse response, int status, String error, String detail,
      int retryAfterSeconds) {
    if (retryAfterSeconds > 0 && !response.ended() && !response.closed()) {
      response.putHeader("Retry-After", Integer.toString(retryAfterSeconds));
    }
    error(response, status, error, detail);
  }

  /** The body of a Floe error. */
  public static JsonObject errorBody(String error, String detail) {
    return new JsonObject().put("error", error).put("detail", detail);
  }
}
