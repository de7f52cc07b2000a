package io.floe.catalog.commit;

/**
 * What the committer answers for one handed-over range {@code (after, through]} of a partition.
 * {@link BatchCommit} decides the first three; the coordinator adds the others.
 */
public sealed interface HandoverAnswer {
  /**
   * The table records the partition committed through {@code through} or beyond, under the range's
   * epoch: the node may drop the range. {@code snapshotId} is the snapshot that committed it, or -1
   * when it has expired (a re-send of a range committed long ago).
   */
  record Committed(long through, long snapshotId) implements HandoverAnswer {}

  /** The partition was claimed by a newer epoch: the node stops, as when fenced directly. */
  record Fenced(long tableEpoch) implements HandoverAnswer {}

  /**
   * The partition's committed sequence is neither the range's start nor past its end: the node
   * re-reads the table and cuts its next range from {@code tableCommitted}.
   */
  record Mismatch(long tableCommitted) implements HandoverAnswer {}

  /** The committer holds more pending bytes than it takes: hand over again after a pause. */
  record Busy(long retryAfterMillis) implements HandoverAnswer {}

  /**
   * This committer no longer holds the role (a newer coordinator epoch, or stopped): find the
   * current one in the table and hand over there. {@code coordinatorEpoch} is the newest known.
   */
  record NotCoordinator(long coordinatorEpoch) implements HandoverAnswer {}

  /**
   * The outcome cannot be told (the catalog unreachable, or a landed commit's files found gone):
   * the node keeps the range and checks the table itself ({@code committedUnder}) before handing it
   * over again.
   */
  record Failed(String reason) implements HandoverAnswer {}
}
