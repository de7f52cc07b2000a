package io.floe.catalog.commit;

import io.floe.catalog.table.FloeTableKeys;
import java.util.Map;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotAncestryValidator;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.Transactions;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.util.PropertyUtil;
import org.apache.iceberg.util.SnapshotUtil;

/**
 * The committer role, won through the table: a claim is a file-less snapshot ({@code
 * floe.operation=coordinator-claim}) that raises {@link FloeTableKeys#COORDINATOR_EPOCH} by one and
 * records the claimant's address and owner, in its summary and in the table properties (which
 * survive snapshot expiry). Its validator checks that the newest recorded coordinator epoch is
 * still the one the claim was computed from, and every catalog compares and swaps the metadata
 * pointer, so each epoch has exactly one winner. Every batch commit records its committer's epoch
 * ({@link BatchCommit}), so a claim fences every earlier coordinator's later attempts.
 */
public final class CoordinatorClaim {
  /**
   * The coordinator role as the table records it.
   *
   * @param epoch 0 before the first claim
   * @param address where the holder takes hand-overs, or "" before the first claim
   * @param owner the process that claimed it, or ""
   */
  public record Coordinator(long epoch, String address, String owner) {}

  private CoordinatorClaim() {}

  /**
   * The role as of the table's current metadata (refresh first for the latest): the epoch the
   * newest snapshot that records one names, else the properties'; address and owner from the
   * properties.
   */
  public static Coordinator current(Table table) {
    Map<String, String> props = table.properties();
    long epoch = newestRecordedEpoch(table);
    if (epoch < 0) {
      epoch =
          PropertyUtil.propertyAsLong(
              props, FloeTableKeys.COORDINATOR_EPOCH, FloeTableKeys.COORDINATOR_EPOCH_DEFAULT);
    }
    return new Coordinator(
        epoch,
        props.getOrDefault(FloeTableKeys.COORDINATOR_ADDRESS, ""),
        props.getOrDefault(FloeTableKeys.COORDINATOR_OWNER, ""));
  }

  /** The newest coordinator epoch recorded in the current ancestry, or -1 (none, or expired). */
  static long newestRecordedEpoch(Table table) {
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return -1;
    }
    for (Snapshot s : SnapshotUtil.ancestorsOf(current.snapshotId(), table::snapshot)) {
      String recorded = s.summary().get(FloeTableKeys.COORDINATOR_EPOCH);
      if (recorded != null) {
        return Long.parseLong(recorded);
      }
    }
    return -1;
  }

  /**
   * Refreshes the table and claims the role with the next epoch. Not retried: a claim that races
   * another claim lost to it.
   *
   * @param address where this process takes hand-overs
   * @param owner this process, for people reading the table's history
   * @return the role as claimed
   * @throws ClaimRacedException when another claim landed first
   * @throws CommitStateUnknownException when the catalog's answer was lost and the table does not
   *     tell (it cannot be read, or another claim landed on top): read the role again
   */
  public static Coordinator claim(Table table, String address, String owner) {
    return claim(table, address, owner, -1);
  }

  /**
   * As {@link #claim(Table, String, String)}, only as the successor of {@code after}: when the
   * table already records another epoch (someone else claimed meanwhile), nothing is claimed.
   *
   * @param after the epoch this process saw fail or end; -1 claims after whichever is current
   * @throws ClaimRacedException when the table records another epoch than {@code after}, or another
   *     claim landed first
   */
  public static Coordinator claim(Table table, String address, String owner, long after) {
    if (!(table instanceof BaseTable base)) {
      throw new IllegalArgumentException(
          "a coordinator claim needs a catalog table (BaseTable), not " + table.getClass());
    }
    table.refresh();
    long read = current(table).epoch();
    if (after >= 0 && read != after) {
      throw new ClaimRacedException(
          "the coordinator epoch is now " + read + ", not " + after + ": another node claimed it",
          null);
    }
    String epoch = Long.toString(read + 1);
    Transaction tx =
        Transactions.newTransaction(
            table.name(), new RefusalCheckingOperations(base.operations()), base.reporter());
    tx.newFastAppend()
        .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_COORDINATOR_CLAIM)
        .set(FloeTableKeys.COORDINATOR_EPOCH, epoch)
        .set(FloeTableKeys.COORDINATOR_ADDRESS, address)
        .set(FloeTableKeys.COORDINATOR_OWNER, owner)
        .validateWith(new StillEpoch(read))
        .commit();
    tx.updateProperties()
        .set(FloeTableKeys.COORDINATOR_EPOCH, epoch)
        .set(FloeTableKeys.COORDINATOR_ADDRESS, address)
        .set(FloeTableKeys.COORDINATOR_OWNER, owner)
        .commit();
    try {
      tx.commitTransaction();
    } catch (ValidationException e) {
      throw new ClaimRacedException(
          "the coordinator claim of epoch " + epoch + " lost to another claim: " + e.getMessage(),
          e);
    } catch (CommitStateUnknownException e) {
      // the answer was lost: the table tells whether this claim is the one that landed
      table.refresh();
      Coordinator now = current(table);
      if (now.epoch() == read + 1 && now.address().equals(address) && now.owner().equals(owner)) {
        return now;
      }
      throw e;
    }
    table.refresh();
    return new Coordinator(read + 1, address, owner);
  }

  /** Refuses a claim when the newest recorded coordinator epoch is no longer the one it read. */
  private static final class StillEpoch implements SnapshotAncestryValidator {
    private final long read;
    private String failure = "";

    StillEpoch(long read) {
      this.read = read;
    }

    @Override
    public boolean validate(Iterable<Snapshot> ancestry) {
      for (Snapshot s : ancestry) {
        String recorded = s.summary().get(FloeTableKeys.COORDINATOR_EPOCH);
        if (recorded != null) {
          if (Long.parseLong(recorded) != read) {
            failure = "coordinator epoch is now " + recorded + ", the claim read " + read;
            return false;
          }
          return true;
        }
      }
      return true;
    }

    @Override
    public String errorMessage() {
      return failure;
    }
  }
}
