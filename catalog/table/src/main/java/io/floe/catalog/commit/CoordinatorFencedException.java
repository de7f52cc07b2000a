package io.floe.catalog.commit;

/**
 * A newer coordinator claim superseded this committer's coordinator epoch: it must stop committing
 * and answer hand-overs {@link HandoverAnswer.NotCoordinator}.
 */
public final class CoordinatorFencedException extends RuntimeException {
  private final long tableEpoch;

  public CoordinatorFencedException(String message, long tableEpoch) {
    super(message);
    this.tableEpoch = tableEpoch;
  }

  /** The coordinator epoch the table records now. */
  public long tableEpoch() {
    return tableEpoch;
  }
}
