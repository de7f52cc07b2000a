package io.floe.catalog.commit;

import io.floe.catalog.table.FloeTableKeys;
import java.util.Map;
import java.util.function.Function;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.util.PropertyUtil;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * A partition's epoch and committed sequence as the table records them: in the summary of the
 * newest snapshot that carries them (written in the same commit as the data), or in the table
 * properties (kept equal, and surviving snapshot expiry) when no snapshot in the ancestry does, or
 * when the newest snapshot that records the partition is a batch commit, which names the partitions
 * it advanced ({@link FloeTableKeys#ADVANCED_PARTITIONS}) and keeps their state in the properties
 * only. Nodes read it before each claim and commit; the catalog service reads it to refuse a commit
 * that would lower it.
 */
public record PartitionState(long epoch, long committedSequence) {
  // the keys are FloeTableKeys'; these short names keep CommitProtocol's call sites readable
  static String epochKey(int partition) {
    return FloeTableKeys.partitionEpoch(partition);
  }

  static String committedKey(int partition) {
    return FloeTableKeys.partitionCommittedSequence(partition);
  }

  /**
   * Whether {@code s} is a batch commit that advanced {@code partition} and recorded its state in
   * the table properties only, not in its summary.
   */
  static boolean advancedInProperties(Snapshot s, int partition) {
    Map<String, String> summary = s.summary();
    String advanced = summary.get(FloeTableKeys.ADVANCED_PARTITIONS);
    return advanced != null
        && !summary.containsKey(committedKey(partition))
        && PartitionSet.contains(advanced, partition);
  }

  /**
   * Whether {@code ancestry} (newest first) holds the snapshot {@code plannedOn} (null: the table
   * had none, so any ancestry does): a validator refuses an attempt whose planning snapshot main no
   * longer holds, since what was read on it may not be main's any more (a rollback).
   */
  static boolean holds(Iterable<Snapshot> ancestry, Long plannedOn) {
    if (plannedOn == null) {
      return true;
    }
    for (Snapshot s : ancestry) {
      if (s.snapshotId() == plannedOn) {
        return true;
      }
    }
    return false;
  }

  /** Reads the state from the table's current metadata (refresh first for the latest). */
  public static PartitionState of(Table table, int partition) {
    return of(table.currentSnapshot(), table::snapshot, table.properties(), partition);
  }

  /** Reads the state from {@code metadata} (a committer's view of the table, kept in memory). */
  public static PartitionState of(TableMetadata metadata, int partition) {
    return of(metadata.currentSnapshot(), metadata::snapshot, metadata.properties(), partition);
  }

  private static PartitionState of(
      Snapshot current,
      Function<Long, Snapshot> snapshots,
      Map<String, String> props,
      int partition) {
    Long epoch = null;
    Long committed = null;
    if (current != null) {
      for (Snapshot s : SnapshotUtil.ancestorsOf(current.snapshotId(), snapshots)) {
        Map<String, String> summary = s.summary();
        if (epoch == null && summary.containsKey(epochKey(partition))) {
          epoch = Long.parseLong(summary.get(epochKey(partition)));
        }
        if (committed == null && summary.containsKey(committedKey(partition))) {
          committed = Long.parseLong(summary.get(committedKey(partition)));
        }
        if ((epoch == null || committed == null) && advancedInProperties(s, partition)) {
          // the newest record of what is still missing: the properties hold it, as this batch
          // wrote it (every later change of the partition is in a later summary)
          break;
        }
        if (epoch != null && committed != null) {
          break;
        }
      }
    }
    if (epoch == null || committed == null) {
      StateHistory.require(props, current, snapshots, "partition " + partition);
    }
    return new PartitionState(
        epoch != null
            ? epoch
            : PropertyUtil.propertyAsLong(
                props, epochKey(partition), FloeTableKeys.PARTITION_EPOCH_DEFAULT),
        committed != null
            ? committed
            : PropertyUtil.propertyAsLong(
                props,
                committedKey(partition),
                FloeTableKeys.PARTITION_COMMITTED_SEQUENCE_DEFAULT));
  }
}
