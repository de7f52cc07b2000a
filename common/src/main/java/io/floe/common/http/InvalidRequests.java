package io.floe.common.http;

import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpVersion;

/**
 * Answers an HTTP/1.x request the decoder gave up on before any route saw it, as Vert.x's default
 * handler does but with Floe's JSON error: a header block over the listener's limit (8 KiB) is 431
 * {@code request_header_fields_too_large}, a request line over its limit (4 KiB) 414 {@code
 * uri_too_long}, any other unparseable request 400 {@code bad_request}. Vert.x closes the
 * connection after the answer. Every Floe listener sets it as its server's {@code
 * invalidRequestHandler}.
 */
public final class InvalidRequests {
  private InvalidRequests() {}

  public static void answer(HttpServerRequest req) {
    DecoderResult result = req.decoderResult();
    Throwable cause = result == null ? null : result.cause();
    if (cause instanceof TooLongHttpHeaderException) {
      JsonResponses.error(
          req.response(),
          431,
          "request_header_fields_too_large",
          "the request's headers are too large ("
              + cause.getMessage()
              + "); send fewer or shorter headers");
    } else if (cause instanceof TooLongHttpLineException) {
      JsonResponses.error(
          req.response(),
          414,
          "uri_too_long",
          "the request line is too long (" + cause.getMessage() + "); shorten the URI");
    } else if (cause != null
        || (req.method() == HttpMethod.GET
            && req.version() == HttpVersion.HTTP_1_0
            && "/bad-request".equals(req.uri()))) {
      // Netty stands a request it could not parse at all in as "GET /bad-request HTTP/1.0"
      JsonResponses.error(
          req.response(),
          400,
          "bad_request",
          "the request could not be parsed"
              + (cause == null ? "" : " (" + cause.getMessage() + ")"));
    } else {
      req.connection().close();
    }
  }
}
