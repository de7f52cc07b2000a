package io.floe.catalog.commit;

import java.util.Set;
import java.util.stream.Collectors;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A table's operations, except that a refused commit is checked against the table before Iceberg
 * acts on the refusal.
 *
 * <p>Iceberg takes a {@link CommitFailedException} (a 409 from a REST catalog) as proof that the
 * attempt did not land: it retries, and when the retry is refused too (by a validator, or by
 * running out of attempts) it deletes the manifest lists and manifests its attempts wrote. A
 * catalog can apply an update and still answer 409, though (over PostgreSQL: the UPDATE commits,
 * the connection drops, the pool reruns it and no row matches). Iceberg would then delete the files
 * of the snapshot that landed, and every later scan and append of the table would fail.
 *
 * <p>So on a refusal this reads the table again. The attempt's new snapshots are there: it landed,
 * and the commit succeeds. They are not: the refusal stands (Iceberg's retry and its clean-up are
 * both safe then). The table cannot be read: the outcome is unknown, {@link
 * CommitStateUnknownException}, after which Iceberg deletes nothing. Iceberg's REST client does the
 * same for an unknown outcome of a snapshot-only update ({@code
 * RESTTableOperations.reconcileOnSimpleUpdate}); this extends it to refusals and to transactions.
 */
public final class RefusalCheckingOperations extends ForwardingTableOperations {
  private static final Logger LOG = LoggerFactory.getLogger(RefusalCheckingOperations.class);

  /**
   * {@code table} with its commits checked so: for every writer that commits snapshots outside the
   * commit protocol (table maintenance's rewrites). Without it, Iceberg would retry an applied
   * update that was answered 409 with the same snapshot id, find that snapshot in the table and
   * move {@code main} back to it, dropping what others committed on top; or delete its manifests
   * once its retries are spent.
   *
   * @throws IllegalArgumentException when {@code table} is not a catalog table (BaseTable)
   */
  public static Table guard(Table table) {
    if (!(table instanceof BaseTable base)) {
      throw new IllegalArgumentException(
          "refusal checks need a catalog table (BaseTable), not " + table.getClass());
    }
    if (base.operations() instanceof RefusalCheckingOperations) {
      return table;
    }
    return new BaseTable(new RefusalCheckingOperations(base.operations()), base.name());
  }

  /** Whether refreshes may answer the metadata held now, without reading the catalog. */
  private boolean currentIsFresh;

  RefusalCheckingOperations(TableOperations ops) {
    super(ops);
  }

  /**
   * Lets {@link #refresh} answer the metadata held now until the next commit attempt is refused or
   * {@link #refreshNormally}: the caller read or wrote it an instant ago. Iceberg's transaction
   * refreshes when it starts and before its first attempt; with this, a committer whose metadata is
   * its own last commit's does not load the table for each commit. Safe: if the table moved, the
   * catalog refuses the attempt (its requirements assert the current snapshot), and Iceberg's retry
   * refreshes for real.
   */
  void skipRefreshes() {
    currentIsFresh = true;
  }

  /** Ends {@link #skipRefreshes}. */
  void refreshNormally() {
    currentIsFresh = false;
  }

  @Override
  public TableMetadata refresh() {
    return currentIsFresh ? ops.current() : ops.refresh();
  }

  @Override
  public void commit(TableMetadata base, TableMetadata metadata) {
    try {
      ops.commit(base, metadata);
    } catch (CommitFailedException refused) {
      currentIsFresh = false;
      Set<Long> added = addedSnapshots(base, metadata);
      if (added.isEmpty()) {
        // no snapshot, so no manifests that a clean-up could take from a landed commit
        throw refused;
      }
      TableMetadata now;
      try {
        now = ops.refresh();
      } catch (RuntimeException e) {
        refused.addSuppressed(e);
        throw new CommitStateUnknownException(
            "the catalog refused the commit of snapshot "
                + added
                + " and the table cannot be read to tell whether it landed",
            refused);
      }
      long landed = added.stream().filter(id -> now.snapshot(id) != null).count();
      if (landed == added.size()) {
        LOG.warn(
            "the catalog refused the commit of snapshot {} ({}), but the table holds it: it landed",
            added,
            refused.getMessage());
        return;
      }
      if (landed > 0) {
        throw new CommitStateUnknownException(
            "the catalog refused the commit of snapshots "
                + added
                + " and the table holds only some of them",
            refused);
      }
      throw refused;
    }
  }

  private static Set<Long> addedSnapshots(TableMetadata base, TableMetadata metadata) {
    Set<Long> before =
        base == null
            ? Set.of()
            : base.snapshots().stream().map(Snapshot::snapshotId).collect(Collectors.toSet());
    return metadata.snapshots().stream()
        .map(Snapshot::snapshotId)
        .filter(id -> !before.contains(id))
        .collect(Collectors.toSet());
  }
}
