package io.floe.common.http;

import io.netty.handler.codec.DecoderException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.impl.ConnectionBase;
import java.util.Locale;

/**
 * The one writer of JSON answers for every Floe listener (node, router, catalog service). Floe's
 * own errors are {@code {"error": kind, "detail": what was wrong and what to do}}; the catalog
 * service hands its Iceberg REST error bodies to {@link #send} so that the status, content type and
 * "answer once" rule are the same everywhere.
 */
public final class JsonResponses {
  public static final String CONTENT_TYPE = "application/json";

  /** {@link #CONTENT_TYPE} as a header value encoded once, for the ingestion hot path. */
  private static final CharSequence CONTENT_TYPE_VALUE = HttpHeaders.createOptimized(CONTENT_TYPE);

  private JsonResponses() {}

  /**
   * Answers {@code status} with a JSON body, unless the response was already answered or closed.
   */
  public static void send(HttpServerResponse response, int status, Buffer json) {
    if (response.ended() || response.closed()) {
      return;
    }
    response
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONTENT_TYPE, CONTENT_TYPE_VALUE)
        .end(json);
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
  public static void error(
      HttpServerResponse response, int status, String error, String detail, int retryAfterSeconds) {
    if (retryAfterSeconds > 0 && !response.ended() && !response.closed()) {
      response.putHeader(FloeHttp.RETRY_AFTER, Integer.toString(retryAfterSeconds));
    }
    error(response, status, error, detail);
  }

  /**
   * Answers a Floe error, then closes the connection (an HTTP/2 stream just ends): for a request
   * whose body may still be coming, which is not worth reading to find the next request.
   */
  public static void errorAndClose(HttpServerRequest req, int status, String error, String detail) {
    HttpServerResponse response = req.response();
    if (response.ended() || response.closed()) {
      return;
    }
    response
        .setStatusCode(status)
        .putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE)
        .putHeader(HttpHeaders.CONTENT_TYPE, CONTENT_TYPE_VALUE)
        .end(errorBody(error, detail).toBuffer())
        .onComplete(
            written -> {
              if (req.version() != HttpVersion.HTTP_2) {
                req.connection().close();
              }
            });
  }

  /** The body of a Floe error. */
  public static JsonObject errorBody(String error, String detail) {
    return new JsonObject().put("error", error).put("detail", detail);
  }

  /** What the HTTP/1.1 decoder raises for a body whose chunked framing it cannot parse. */
  public static boolean isFramingError(Throwable e) {
    return e instanceof NumberFormatException
        || e instanceof DecoderException
        || (e instanceof IllegalArgumentException
            && String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("chunk"));
  }

  /** The detail of a {@code malformed_encoding} answer to a broken chunked body. */
  public static String framingErrorDetail(Throwable e) {
    return "the chunked body's framing is broken (" + e.getMessage() + "); nothing was stored";
  }

  /**
   * Answers a request whose chunked body framing is broken with 400 {@code malformed_encoding},
   * called from the request's exception handler. The HTTP decoder has given up on the connection
   * and Vert.x closes it as soon as that handler returns, and inside a read it flushes only when
   * the read completes, which the close pre-empts: so the answer is flushed here (through Vert.x's
   * internal connection class; the node's and router's malformed-chunk tests guard it).
   */
  public static void framingErrorNow(HttpServerRequest req, Throwable e) {
    HttpServerResponse response = req.response();
    if (response.ended() || response.closed()) {
      return;
    }
    response.putHeader("Connection", "close");
    error(response, 400, "malformed_encoding", framingErrorDetail(e));
    if (req.connection() instanceof ConnectionBase c) {
      c.channel().flush();
    }
  }
}
