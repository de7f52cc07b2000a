package io.floe.node.error;

/**
 * A request that is refused, with everything needed to answer it. The subclasses are the kinds
 * of refusal; {@code io.floe.node.http.ErrorResponses} maps them to HTTP once.
 */
public abstract class IngestException extends RuntimeException {
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

  /** The HTTP status this refusal maps to. */
  public abstract int status();

  /** Seconds a client should wait before retrying, or 0 when retrying will not help. */
  public int retryAfterSeconds() {
    return 0;
  }

  /** Malformed or invalid input: 400. */
  public static final class BadRequest extends IngestException {
    public BadRequest(String error, String detail) {
      super(error, detail);
    }

    @Override
    public int status() {
      return 400;
    }
  }

  /** Body or event larger than configured: 413. */
  public static final class TooLarge extends IngestException {
    public TooLarge(String detail) {
      super("too_large", detail);
    }

    @Override
    public int status() {
      return 413;
    }
  }

  /** Content-Type or Content-Encoding not supported: 415. */
  public static final class UnsupportedMedia extends IngestException {
    public UnsupportedMedia(String detail) {
      super("unsupported_media_type", detail);
    }

    @Override
    public int status() {
      return 415;
    }
  }

  /** Missing or wrong bearer token: 401. */
  public static final class Unauthorized extends IngestException {
    public Unauthorized(String detail) {
      super("unauthorized", detail);
    }

    @Override
    public int status() {
      return 401;
    }
  }

  /** The node cannot take the request now (budget used, shutting down, storage failing): 503. */
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

    @Override
    public int status() {
      return 503;
    }

    @Override
    public int retryAfterSeconds() {
      return retryAfter;
    }
  }
}
