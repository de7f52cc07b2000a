package io.floe.node.error;

import io.floe.common.http.BodyRate;

/**
 * A request that is refused, with everything needed to answer it. The subclasses are the kinds of
 * refusal; {@code io.floe.node.http.ErrorResponses} maps them to HTTP statuses, in one place. A
 * refused caller (401, 403, 429) is a {@code io.floe.common.auth.AuthException} instead, answered
 * alike by every Floe listener.
 */
public abstract sealed class IngestException extends RuntimeException {
  private final String error;

  protected IngestException(String error, String detail) {
    super(detail, null, false, false);
    this.error = error;
  }

  /** Short machine-readable kind, e.g. {@code malformed_body}. */
  public String error() {
    return error;
  }

  /** The human-readable explanation: what was wrong and what to do. */
  public String detail() {
    return getMessage();
  }

  /** Malformed or invalid input. */
  public static final class BadRequest extends IngestException {
    public BadRequest(String error, String detail) {
      super(error, detail);
    }
  }

  /** An idempotency key that came before with a different request. */
  public static final class KeyReused extends IngestException {
    public KeyReused(String detail) {
      super("idempotency_key_reused", detail);
    }
  }

  /** Body or event larger than configured. */
  public static final class TooLarge extends IngestException {
    public TooLarge(String detail) {
      super("too_large", detail);
    }
  }

  /**
   * The body did not arrive within {@code ingest.body-timeout-seconds}, or came slower than {@code
   * ingest.min-body-bytes-per-second}: a slow or stalled client.
   */
  public static final class BodyTimeout extends IngestException {
    public BodyTimeout(String detail) {
      super(BodyRate.ERROR, detail);
    }
  }

  /** Content-Type or Content-Encoding not supported. */
  public static final class UnsupportedMedia extends IngestException {
    public UnsupportedMedia(String detail) {
      super("unsupported_media_type", detail);
    }
  }

  /**
   * The buffer write of this request failed, and its outcome is unknown: RocksDB may have written
   * the WAL record before the failure (a failed fsync, a full disk mid-write), in which case the
   * events are stored and will reach the table once. The client is told so, not "nothing stored".
   */
  public static final class StorageFailed extends IngestException {
    public StorageFailed(String cause) {
      super(
          "storage_error",
          "the buffer write failed ("
              + cause
              + "); the events may or may not have been"
              + " stored: if they were, they reach the table once, so a retry may store them a second time");
    }
  }

  /** The node cannot take the request now (budget used, shutting down). */
  public static final class Unavailable extends IngestException {
    private final String reason;
    private final int retryAfter;

    public Unavailable(String reason, String detail, int retryAfterSeconds) {
      super("unavailable", detail);
      this.reason = reason;
      this.retryAfter = retryAfterSeconds;
    }

    /**
     * Bounded label for metrics: {@code inflight_full}, {@code buffer_full}, {@code draining}, ...
     */
    public String reason() {
      return reason;
    }

    /** Seconds a client should wait before retrying. */
    public int retryAfterSeconds() {
      return retryAfter;
    }
  }
}
