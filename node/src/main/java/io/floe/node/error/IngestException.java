package io.floe.node.error;

/**
 * A request that is refused, with everything needed to answer it. The subclasses are the kinds
 * of refusal; {@code io.floe.node.http.ErrorResponses} maps them to HTTP statuses, in one place.
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

  /** Body or event larger than configured. */
  public static final class TooLarge extends IngestException {
    public TooLarge(String detail) {
      super("too_large", detail);
    }
  }

  /** Content-Type or Content-Encoding not supported. */
  public static final class UnsupportedMedia extends IngestException {
    public UnsupportedMedia(String detail) {
      super("unsupported_media_type", detail);
    }
  }

  /** Missing or wrong bearer token. */
  public static final class Unauthorized extends IngestException {
    public Unauthorized(String detail) {
      super("unauthorized", detail);
    }
  }

  /** The node cannot take the request now (budget used, shutting down, storage failing). */
  public static final class Unavailable extends IngestException {
    private final String reason;
    private final int retryAfter;

    public Unavailable(String reason, String detail, int retryAfterSeconds) {
      super("unavailable", detail);
      this.reason = reason;
      this.retryAfter = retryAfterSeconds;
    }

    /** Bounded label for metrics: {@code inflight_full}, {@code buffer_full}, {@code draining}, ... */
    public String reason() {
      return reason;
    }

    /** Seconds a client should wait before retrying. */
    public int retryAfterSeconds() {
      return retryAfter;
    }
  }
}
