package io.floe.catalog.commit;

/** Another process claimed this partition: this one must stop committing and accepting writes. */
public final class FencedException extends RuntimeException {
  public FencedException(String message) {
    super(message);
  }
}
