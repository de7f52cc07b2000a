package io.floe.catalog.commit;

/**
 * A commit found its partition committed beyond the start of its range, under this process's own
 * epoch: an earlier attempt of this process, whose answer was lost and which the catalog applied
 * late, committed it (under an epoch only its holder commits). Not a fence: the caller drops
 * through {@link #committedSequence()} and cuts its next range from there. The files of this
 * attempt were not committed.
 */
public final class EarlierCommitLandedException extends RuntimeException {
  private final long committedSequence;

  EarlierCommitLandedException(String message, long committedSequence) {
    super(message);
    this.committedSequence = committedSequence;
  }

  /** The partition's committed sequence the table records now. */
  public long committedSequence() {
    return committedSequence;
  }
}
