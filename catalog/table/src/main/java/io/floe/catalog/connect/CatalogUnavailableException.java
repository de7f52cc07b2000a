package io.floe.catalog.connect;

/**
 * The catalog could not be reached, or refused service, for longer than a caller was willing to
 * wait.
 */
public final class CatalogUnavailableException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CatalogUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
