package io.floe.common.auth;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * A refused caller: 401 (who are you?), 403 (you may not) or 429 (not now: the token's quota is
 * used up). The wording of each refusal is chosen here, and {@code io.floe.common.http.Refusals}
 * answers it, so that every Floe listener refuses alike.
 */
public final class AuthException extends RuntimeException {
  private final int status;
  private final long retryAfterSeconds;

  private AuthException(int status, String message, long retryAfterSeconds) {
    super(message, null, false, false);
    this.status = status;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /** 401: the caller is not known ({@code detail} says why; it never holds the token). */
  public static AuthException unauthorized(String detail) {
    return new AuthException(401, detail, 0);
  }

  /**
   * 403: {@code p} holds none of {@code needed} ("the token 'x' lacks the scope read or admin").
   */
  public static AuthException lacking(Principal p, Scope... needed) {
    return forbidden(
        p,
        "lacks the scope "
            + Arrays.stream(needed).map(Scope::text).collect(Collectors.joining(" or ")));
  }

  /** 403: {@code p} may not do what {@code refusal} says ("may not send events to stream 'x'"). */
  public static AuthException forbidden(Principal p, String refusal) {
    return new AuthException(403, "the token '" + p.name() + "' " + refusal, 0);
  }

  /** 429: {@code p} has used its quota, and may send again in {@code waitSeconds}. */
  public static AuthException overQuota(Principal p, long waitSeconds) {
    return new AuthException(
        429,
        "the token '"
            + p.name()
            + "' has used its quota (events-per-second / bytes-per-second in the token file);"
            + " retry after "
            + waitSeconds
            + " s",
        waitSeconds);
  }

  /**
   * 429: {@code p} already has {@code limit} requests in flight here, the most it may have at once;
   * it may send again as soon as one of them ends.
   */
  public static AuthException tooManyAtOnce(Principal p, int limit) {
    return new AuthException(
        429,
        "the token '"
            + p.name()
            + "' already has "
            + limit
            + " requests in flight, the most it may have at once ("
            + Quotas.MAX_CONCURRENT_REQUESTS
            + "); retry after 1 s",
        1);
  }

  /** 401, 403 or 429. */
  public int status() {
    return status;
  }

  /** The short machine-readable kind of the refusal: the {@code error} of a Floe JSON answer. */
  public String error() {
    return switch (status) {
      case 401 -> "unauthorized";
      case 429 -> "too_many_requests";
      default -> "forbidden";
    };
  }

  /** For a 429: whole seconds until the token may send again; else 0. */
  public long retryAfterSeconds() {
    return retryAfterSeconds;
  }
}
