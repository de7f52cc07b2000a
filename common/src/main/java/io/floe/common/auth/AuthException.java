package io.floe.common.auth;

/** A refused caller: 401 (who are you?) or 403 (you may not). */
public final class AuthException extends RuntimeException {
  private final int status;

  public AuthException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  /** 401 or 403. */
  public int status() {
    return status;
  }
}
