package io.floe.catalog.commit;

/**
 * Every attempt to claim a partition raced another process's commit to it; claiming later may
 * succeed.
 */
public final class ClaimRacedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ClaimRacedException(String message, Throwable cause) {
    super(message, cause);
  }
}
