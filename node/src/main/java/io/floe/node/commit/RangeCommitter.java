package io.floe.node.commit;

import io.floe.catalog.commit.CommitFilesMissingException;
import io.floe.catalog.commit.FencedException;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.commit.PartitionView;
import java.time.Duration;
import java.util.List;
import org.apache.iceberg.DataFile;

/**
 * How the flusher gets a written range into the table: {@link DirectCommitter} commits it itself,
 * {@link CoordinatedCommitter} hands it to the cluster's one committer. Either way the call returns
 * only once the table records the range committed under the claim's epoch, so the flusher may then
 * drop it from RocksDB; anything else is an exception and the range stays.
 */
public interface RangeCommitter extends AutoCloseable {
  /**
   * A written range of the partition: sequences {@code (after, through]} in {@code files}.
   *
   * @param events how many events it holds
   * @param urgent someone waits for it ({@code POST /v1/flush}, a final flush)
   * @param writtenNanos when its files were written ({@link System#nanoTime}): files older than the
   *     re-send limit are never handed over again
   */
  record Range(
      long after,
      long through,
      List<DataFile> files,
      int events,
      boolean urgent,
      long writtenNanos) {
    public Range {
      files = List.copyOf(files);
    }
  }

  /**
   * Commits {@code range}.
   *
   * @return the partition's committed sequence now under the claim's epoch: {@code
   *     range.through()}, or less when an earlier attempt of this process, given up on, landed
   *     instead (its answer lost): then this range's files were not committed, and the flusher
   *     continues from the returned sequence
   * @throws FencedException when another process holds the partition now
   * @throws CommitFilesMissingException when the table says committed but the files are gone
   * @throws RuntimeException when the outcome is unknown: the flusher reads the table before its
   *     next cut and writes the range again
   */
  long commit(PartitionClaim claim, Range range) throws InterruptedException;

  /**
   * The snapshot that committed the partition's committed sequence, as far as this process knows,
   * or -1.
   */
  long lastSnapshotId();

  /**
   * The partition's state and the table's settings version as the cluster's committer sees them, at
   * most {@code maxAge} old, or null when there is no committer to ask or it cannot tell now (the
   * caller then reads the table itself). Lets an idle node check its claim, and any node its typed
   * columns, without loading the table.
   */
  default PartitionView view(int partition, Duration maxAge) {
    return null;
  }

  /** Stops waiting: a commit in progress ends with an exception (its range stays). */
  @Override
  default void close() {}
}
