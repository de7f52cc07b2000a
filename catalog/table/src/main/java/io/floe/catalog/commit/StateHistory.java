package io.floe.catalog.commit;

import io.floe.catalog.table.FloeTableKeys;
import java.util.Map;
import java.util.function.Function;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * Whether the partition state in the table properties is as of main's history: the compact batch
 * commit that last wrote it records itself in {@link FloeTableKeys#ADVANCED_BY} as {@code <snapshot
 * id>:<sequence number>}, and table properties do not follow main when an admin rolls it back.
 * Readers take a partition's state from the properties only while that batch is in main's history
 * (or expired as part of it).
 */
public final class StateHistory {
  private StateHistory() {}

  /** The property's value for a batch commit's snapshot. */
  static String value(long snapshotId, long sequenceNumber) {
    return snapshotId + ":" + sequenceNumber;
  }

  /** The snapshot id the property names, or -1 when it is not of the expected form. */
  public static long snapshotId(String value) {
    return part(value, 0);
  }

  /** The sequence number the property names, or -1 when it is not of the expected form. */
  public static long sequenceNumber(String value) {
    return part(value, 1);
  }

  private static long part(String value, int index) {
    if (value == null || !value.matches("[0-9]{1,19}:[0-9]{1,19}")) {
      return -1;
    }
    try {
      return Long.parseLong(value.split(":")[index]);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /**
   * Refuses, naming {@code what} needs the state, unless {@code properties} hold partition state as
   * of main's history ({@link #inHistory}).
   *
   * @throws StateNotInHistoryException when main was rolled back across the batch that wrote them
   */
  public static void require(
      Map<String, String> properties,
      Snapshot current,
      Function<Long, Snapshot> snapshots,
      String what) {
    if (!inHistory(properties, current, snapshots)) {
      throw new StateNotInHistoryException(
          what
              + ": the table properties hold partition state last written by batch commit "
              + properties.get(FloeTableKeys.ADVANCED_BY)
              + ", which is not in main's history (was main rolled back?); they may name sequences"
              + " the table no longer holds, so nothing is committed or dropped until an operator"
              + " restores them (docs/operations.md, Rollback)");
    }
  }

  /**
   * Whether {@code properties} hold partition state as of main's history: no compact batch wrote
   * them, or the one that did last is an ancestor of {@code current}, or it expired as one (the
   * walk ends above it). False when main was rolled back across it: it is still in the table but
   * not an ancestor, or the walk passes below its sequence number without meeting it. A value not
   * of the expected form is false too.
   */
  public static boolean inHistory(
      Map<String, String> properties, Snapshot current, Function<Long, Snapshot> snapshots) {
    String value = properties.get(FloeTableKeys.ADVANCED_BY);
    if (value == null) {
      return true;
    }
    long id = snapshotId(value);
    long sequence = sequenceNumber(value);
    if (id < 0 || current == null) {
      return false;
    }
    for (Snapshot s : SnapshotUtil.ancestorsOf(current.snapshotId(), snapshots)) {
      if (s.snapshotId() == id) {
        return true;
      }
      if (s.sequenceNumber() < sequence) {
        // every older ancestor is older still: main's history no longer holds the batch
        return false;
      }
    }
    // the walk ended where the ancestry was expired: the batch is below it, unless it is still in
    // the table outside main's history
    return snapshots.apply(id) == null;
  }
}
