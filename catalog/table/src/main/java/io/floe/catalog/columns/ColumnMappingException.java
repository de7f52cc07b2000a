package io.floe.catalog.columns;

/** A column mapping request that cannot be done, and which kind of answer it deserves. */
public final class ColumnMappingException extends RuntimeException {
  /** Invalid request (400), conflict with what the table holds (409), no such mapping (404). */
  public enum Kind {
    INVALID,
    CONFLICT,
    NOT_FOUND
  }

  private final Kind kind;

  public ColumnMappingException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
