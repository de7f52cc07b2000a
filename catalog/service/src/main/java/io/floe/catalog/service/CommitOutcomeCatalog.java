package io.floe.catalog.service;

import io.floe.catalog.commit.ForwardingTableOperations;
import java.util.List;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableMetadata.MetadataLogEntry;
import org.apache.iceberg.TableMetadataParser;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backing catalog as the REST commit route sees it: a table's commit that fails is resolved by
 * reading the table pointer again before the failure reaches the client.
 *
 * <p>A JDBC commit can apply and still fail: over PostgreSQL the UPDATE commits, the connection
 * drops, the pool reconnects and reruns it, no row matches, and the JDBC catalog reports a
 * conflict. Iceberg's handler would retry, find its own requirements broken by the update it just
 * applied, and answer 409, which tells the client its attempt did not land, and the client deletes
 * the attempt's manifests while the table points at them. So after a failed commit this reads the
 * table again: the metadata this update produced is current (or in the metadata log right after the
 * one it replaced): the commit landed, and the client gets 200 with the table as it is now. It is
 * not there: the failure stands (a conflict stays a 409). The table cannot be read: the outcome is
 * unknown, answered 500, which Iceberg's clients take as "commit state unknown" and never clean up
 * after. Other failures (a database or storage error) are answered as they are unless the reread
 * shows the commit landed.
 */
final class CommitOutcomeCatalog implements Catalog {
  private static final Logger LOG = LoggerFactory.getLogger(CommitOutcomeCatalog.class);

  private final Catalog catalog;

  CommitOutcomeCatalog(Catalog catalog) {
    this.catalog = catalog;
  }

  @Override
  public Table loadTable(TableIdentifier identifier) {
    Table table = catalog.loadTable(identifier);
    if (table instanceof BaseTable base) {
      return new BaseTable(
          new ResolvingOperations(base.operations()), base.name(), base.reporter());
    }
    return table;
  }

  @Override
  public TableBuilder buildTable(TableIdentifier identifier, Schema schema) {
    return catalog.buildTable(identifier, schema);
  }

  @Override
  public List<TableIdentifier> listTables(Namespace namespace) {
    return catalog.listTables(namespace);
  }

  @Override
  public boolean dropTable(TableIdentifier identifier, boolean purge) {
    return catalog.dropTable(identifier, purge);
  }

  @Override
  public void renameTable(TableIdentifier from, TableIdentifier to) {
    catalog.renameTable(from, to);
  }

  @Override
  public String name() {
    return catalog.name();
  }

  /** What reading the table again after a failed commit showed. */
  private enum Outcome {
    LANDED,
    ABSENT,
    UNKNOWN
  }

  private static final class ResolvingOperations extends ForwardingTableOperations {

    ResolvingOperations(TableOperations ops) {
      super(ops);
    }

    @Override
    public void commit(TableMetadata base, TableMetadata metadata) {
      try {
        ops.commit(base, metadata);
      } catch (CommitFailedException refused) {
        Outcome outcome = outcome(base, metadata, refused);
        if (outcome == Outcome.LANDED) {
          landed(base, refused);
          return;
        }
        if (outcome == Outcome.UNKNOWN) {
          throw new CommitStateUnknownException(
              "the catalog database refused the commit, and whether it had applied it first "
                  + "cannot be read now; reload the table to find out",
              refused);
        }
        throw refused;
      } catch (RuntimeException failed) {
        // a database or storage error (answered 500 as it is): the update may have been applied
        if (outcome(base, metadata, failed) == Outcome.LANDED) {
          landed(base, failed);
          return;
        }
        throw failed;
      }
    }

    private static void landed(TableMetadata base, RuntimeException failure) {
      LOG.warn(
          "a commit to the table at {} failed ({}), but the metadata it wrote is the table's now: "
              + "it landed, and is answered as committed",
          base.location(),
          failure.toString());
    }

    /**
     * Whether the metadata {@code metadata} (written by the failed attempt) is the table's current
     * metadata, or follows {@code base} in its metadata log (a later commit stacked on it).
     */
    private Outcome outcome(TableMetadata base, TableMetadata metadata, RuntimeException failure) {
      if (base == null || base.metadataFileLocation() == null) {
        return Outcome.UNKNOWN;
      }
      try {
        TableMetadata now = ops.refresh();
        if (base.metadataFileLocation().equals(now.metadataFileLocation())) {
          return Outcome.ABSENT;
        }
        if (same(metadata, now)) {
          return Outcome.LANDED;
        }
        List<MetadataLogEntry> log = now.previousFiles();
        int from = -1;
        for (int i = 0; i < log.size(); i++) {
          if (log.get(i).file().equals(base.metadataFileLocation())) {
            from = i;
          }
        }
        if (from < 0) {
          // the log no longer reaches back to the base: cannot tell
          return Outcome.UNKNOWN;
        }
        for (MetadataLogEntry later : log.subList(from + 1, log.size())) {
          // the log records each file's last-updated time: read only a file that could be ours
          if (later.timestampMillis() == metadata.lastUpdatedMillis()
              && same(metadata, TableMetadataParser.read(io(), later.file()))) {
            return Outcome.LANDED;
          }
        }
        return Outcome.ABSENT;
      } catch (RuntimeException e) {
        failure.addSuppressed(e);
        return Outcome.UNKNOWN;
      }
    }

    /** Whether {@code read} is the metadata file written for {@code written}. */
    private static boolean same(TableMetadata written, TableMetadata read) {
      return written.lastUpdatedMillis() == read.lastUpdatedMillis()
          && TableMetadataParser.toJson(written).equals(TableMetadataParser.toJson(read));
    }
  }
}
