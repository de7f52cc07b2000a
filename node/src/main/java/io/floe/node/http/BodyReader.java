package io.floe.node.http;

import io.floe.common.http.BodyRate;
import io.floe.common.http.JsonResponses;
import io.floe.node.config.NodeConfig;
import io.floe.node.error.IngestException;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import java.time.Duration;
import java.util.Arrays;

/**
 * Reads a request body straight into one byte array sized from Content-Length (one copy out of
 * Netty's buffers), refusing it with 413 as soon as it passes the limit.
 */
final class BodyReader {
  private final long maxBytes;
  private final String limitName;
  private byte[] bytes;
  private int length;
  private boolean failed;

  private BodyReader(long maxBytes, String limitName, long declaredLength) {
    this.maxBytes = maxBytes;
    this.limitName = limitName;
    this.bytes =
        new byte[(int) Math.min(maxBytes, declaredLength >= 0 ? declaredLength : 64 * 1024)];
  }

  /** The body; its bytes are {@code [0, length)} of the array. */
  record Body(byte[] bytes, int length) {}

  /**
   * Reads the body; fails with 413 past {@code ingest.max-body-bytes}, and with 408 when it has not
   * all arrived within {@code ingest.body-timeout-seconds} or comes slower than {@link BodyRate}
   * allows (a slow or stalled client must not hold its in-flight budget for long).
   */
  static Future<Body> read(
      Vertx vertx, HttpServerRequest req, NodeConfig.IngestLimits limits, long declaredLength) {
    return read(vertx, req, limits.maxBodyBytes(), "ingest.max-body-bytes", limits, declaredLength);
  }

  /**
   * As above, with another limit than {@code ingest.max-body-bytes}: at most {@code maxBytes},
   * which the 413's detail explains as {@code limitName}.
   */
  static Future<Body> read(
      Vertx vertx,
      HttpServerRequest req,
      long maxBytes,
      String limitName,
      NodeConfig.IngestLimits limits,
      long declaredLength) {
    Duration timeout = limits.bodyTimeout();
    BodyReader reader = new BodyReader(maxBytes, limitName, declaredLength);
    Promise<Body> promise = Promise.promise();
    long timer =
        vertx.setTimer(
            Math.max(1, timeout.toMillis()),
            id -> {
              if (!reader.failed && !promise.future().isComplete()) {
                reader.failed = true;
                reader.bytes = null;
                promise.tryFail(
                    new IngestException.BodyTimeout(
                        "the request body did not arrive within "
                            + timeout.toMillis() / 1000.0
                            + " s (ingest.body-timeout-seconds); "
                            + reader.length
                            + " bytes came"));
              }
            });
    promise.future().onComplete(ar -> vertx.cancelTimer(timer));
    req.handler(chunk -> reader.append(chunk, promise));
    req.exceptionHandler(
        e -> {
          if (!reader.failed) {
            reader.failed = true;
            reader.bytes = null;
            if (JsonResponses.isFramingError(e)) {
              // answered now: Vert.x closes the connection right after this handler
              JsonResponses.framingErrorNow(req, e);
              promise.tryFail(
                  new IngestException.BadRequest(
                      "malformed_encoding", JsonResponses.framingErrorDetail(e)));
            } else {
              promise.tryFail(e);
            }
          }
        });
    req.endHandler(
        v -> {
          if (!reader.failed) {
            promise.tryComplete(new Body(reader.bytes, reader.length));
          }
        });
    req.resume();
    limits
        .bodyRate()
        .watch(
            vertx,
            req,
            detail -> {
              if (!reader.failed && !promise.future().isComplete()) {
                reader.failed = true;
                reader.bytes = null;
                promise.tryFail(new IngestException.BodyTimeout(detail));
              }
            });
    return promise.future();
  }

  private void append(Buffer chunk, Promise<Body> promise) {
    if (failed) {
      return;
    }
    int n = chunk.length();
    if (length + (long) n > maxBytes) {
      failed = true;
      bytes = null;
      promise.tryFail(
          new IngestException.TooLarge(
              "request body is over the limit of " + maxBytes + " bytes (" + limitName + ")"));
      return;
    }
    if (length + n > bytes.length) {
      bytes =
          Arrays.copyOf(
              bytes, (int) Math.min(maxBytes, Math.max((long) bytes.length * 2, length + n)));
    }
    chunk.getBytes(0, n, bytes, length);
    length += n;
  }
}
