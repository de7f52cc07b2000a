package io.floe.node.http;

import io.floe.node.buffer.IdempotencyKey;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * A request as received, before it is decoded, for its idempotency key: the stream, how the body is
 * to be read (Content-Type, Content-Encoding, the key_field and time_field parameters) and the
 * body's bytes as sent. Not the Floe-On-Error header (how to treat bad records is not what was
 * sent), nor the stream's policy or columns, nor the node's defaults (any may change before a
 * retry, which must still be the same request).
 */
final class RequestFingerprints {
  private RequestFingerprints() {}

  /** {@link IdempotencyKey#requestFingerprint} of the request: a SHA-256. */
  static byte[] of(RoutingContext ctx, BodyReader.Body body) {
    return IdempotencyKey.requestFingerprint(how(ctx), body.bytes(), body.length());
  }

  /**
   * What made two requests "the same" for a node before per-producer keys: the same parts, in 64
   * bits (a CRC-32C of the body beside a hash of the rest and the length). Compared only with the
   * keys such a node stored, which expire within {@code idempotency.retention-seconds} of the
   * upgrade; then this can go.
   */
  static long legacy(RoutingContext ctx, BodyReader.Body body) {
    CRC32C crc = new CRC32C();
    crc.update(body.bytes(), 0, body.length());
    List<Object> parts = new ArrayList<>(how(ctx));
    parts.add(body.length());
    // Objects.hash of these, in this order, as such a node computed it
    int rest = Arrays.hashCode(parts.toArray());
    return (crc.getValue() << 32) | (rest & 0xFFFFFFFFL);
  }

  private static List<String> how(RoutingContext ctx) {
    HttpServerRequest req = ctx.request();
    return Arrays.asList(
        ctx.pathParam("stream"),
        req.getHeader(HttpHeaders.CONTENT_TYPE),
        req.getHeader(HttpHeaders.CONTENT_ENCODING),
        req.getParam("key_field"),
        req.getParam("time_field"));
  }
}
