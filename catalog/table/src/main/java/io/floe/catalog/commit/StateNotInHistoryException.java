package io.floe.catalog.commit;

/**
 * A partition's state cannot be read: the table properties hold it, but the batch commit that last
 * wrote them is not in main's history (main was rolled back across it). Nothing may be committed or
 * dropped on the strength of those properties until an operator restores them.
 */
public final class StateNotInHistoryException extends IllegalStateException {
  public StateNotInHistoryException(String message) {
    super(message);
  }
}
