package io.floe.node.flush;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.commit.PartitionView;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.connect.CatalogUnavailableException;
import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.EventsTable;
import io.floe.common.config.ConfigException;
import io.floe.common.retry.Backoff;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.columns.ColumnWatcher;
import io.floe.node.commit.CommitConfig;
import io.floe.node.commit.CoordinatedCommitter;
import io.floe.node.commit.CoordinatorRole;
import io.floe.node.commit.DirectCommitter;
import io.floe.node.commit.RangeCommitter;
import io.floe.node.metrics.NodeMetrics;
import io.floe.node.metrics.StartupPhases;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node's partition joins the table at start: connect to the catalog, create the table when
 * absent, claim the partition (raising its epoch fences any earlier holder), align the buffer with
 * the committed sequence the table records, and start the flusher. A catalog that cannot be reached
 * is retried with backoff until {@code catalog.startup-timeout-seconds}; a configuration error
 * stops at once.
 */
public final class PartitionStartup {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionStartup.class);
  private static final Duration RETRY_INITIAL = Duration.ofMillis(250);
  private static final Duration RETRY_MAX = Duration.ofSeconds(5);

  private PartitionStartup() {}

  /**
   * The catalog client, the typed columns and the flusher of a claimed partition; closed flusher
   * first.
   */
  public record Flushing(
      Catalog catalog, ColumnWatcher columns, Flusher flusher, CoordinatorRole role)
      implements AutoCloseable {
    @Override
    public void close() throws Exception {
      try {
        flusher.close();
      } finally {
        if (role != null) {
          // after this node's own final hand-over: step down
          role.close();
        }
        columns.close();
        if (catalog instanceof AutoCloseable c) {
          c.close();
        }
      }
    }
  }

  /**
   * Claims {@code partitionId} and starts flushing {@code buffer} into the table.
   *
   * @param onFenced called once if another process claims the partition later
   * @param onDeath called if the flusher thread dies of an {@link Error}
   * @throws CatalogUnavailableException when the catalog stayed unreachable for the startup timeout
   * @throws ConfigException when the catalog settings are wrong
   * @throws SalvageNeededException when the buffer holds events or dead letters acknowledged under
   *     a claim that another process has since taken and that were never committed
   */
  public static Flushing start(
      RocksBuffer buffer,
      int partitionId,
      FlushConfig config,
      NodeMetrics metrics,
      Runnable onFenced,
      Consumer<Throwable> onDeath)
      throws InterruptedException {
    return start(
        buffer,
        partitionId,
        config,
        CommitConfig.direct(),
        () -> null,
        metrics,
        onFenced,
        onDeath,
        config.startupTimeout());
  }

  /**
   * As above, giving up after {@code timeout} instead of {@code catalog.startup-timeout-seconds},
   * committing as {@code commit} says.
   *
   * @param address this node's advertised host:port for the committer role, or null while it is not
   *     known yet
   */
  public static Flushing start(
      RocksBuffer buffer,
      int partitionId,
      FlushConfig config,
      CommitConfig commit,
      Supplier<String> address,
      NodeMetrics metrics,
      Runnable onFenced,
      Consumer<Throwable> onDeath,
      Duration timeout)
      throws InterruptedException {
    try {
      return Backoff.exponential(RETRY_INITIAL, RETRY_MAX)
          .timeout(timeout)
          .call(
              () ->
                  attempt(buffer, partitionId, config, commit, address, metrics, onFenced, onDeath),
              e -> !(e instanceof ConfigException) && !(e instanceof SalvageNeededException),
              (e, attempt, delay) ->
                  LOG.warn(
                      "catalog not reachable yet ({}); retrying in {} ms", e.getMessage(), delay));
    } catch (Backoff.GaveUpException e) {
      throw new CatalogUnavailableException(
          "catalog not reachable within "
              + timeout.toSeconds()
              + " s (catalog.startup-timeout-seconds): "
              + e.getCause().getMessage(),
          e.getCause());
    } catch (InterruptedException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("partition " + partitionId + " could not join the table", e);
    }
  }

  private static Flushing attempt(
      RocksBuffer buffer,
      int partitionId,
      FlushConfig config,
      CommitConfig commit,
      Supplier<String> address,
      NodeMetrics metrics,
      Runnable onFenced,
      Consumer<Throwable> onDeath)
      throws Exception {
    StartupPhases phases = new StartupPhases();
    Catalog catalog = CatalogConnector.open("floe", config.catalogProperties());
    try {
      Table table = EventsTable.ensure(catalog, config.table());
      CommitProtocol protocol = new CommitProtocol(table, partitionId, owner(), buffer.bufferId());
      // the dead-letter table: claimed like the events table (same holder), its watermark recovered
      CommitProtocol deadProtocol =
          new CommitProtocol(
              DeadLetterTable.ensure(catalog, config.table()),
              partitionId,
              owner(),
              buffer.bufferId());
      phases.mark("catalog and tables");
      checkNothingToSalvage(buffer, protocol, deadProtocol, partitionId);
      phases.mark("salvage check");
      PartitionClaim claim = protocol.claim();
      phases.mark("claim");
      FaultPoint.AFTER_CLAIM.reach();
      buffer.recordClaimEpoch(claim.epoch());
      long local = buffer.committedSequence();
      buffer.recoverCommitted(claim.committedSequence());
      LOG.info(
          "claimed partition {} with epoch {}; table committed through {}, buffer was at {}, "
              + "{} events to flush",
          partitionId,
          claim.epoch(),
          claim.committedSequence(),
          local,
          buffer.bufferedEvents());
      if (claim.committedSequence() < local) {
        LOG.warn(
            "the table records partition {} committed through {} but this buffer dropped through {}: "
                + "was the table replaced?",
            partitionId,
            claim.committedSequence(),
            local);
      }
      phases.mark("recovery");
      PartitionClaim deadClaim = deadProtocol.claim();
      buffer.recordDeadClaimEpoch(deadClaim.epoch());
      buffer.recoverDeadLettersCommitted(deadClaim.committedSequence());
      phases.mark("dead-letter claim");
      DeadLetterFlush deadLetters =
          new DeadLetterFlush(buffer, deadProtocol, deadClaim, config.maxBytesPerFlush());
      // the committer, once made below, tells the watcher when the table's settings changed
      AtomicReference<RangeCommitter> asked = new AtomicReference<>();
      ColumnWatcher columns =
          new ColumnWatcher(
              catalog.loadTable(EventsTable.identifier(config.table())),
              config.columnsRefresh(),
              () -> {
                RangeCommitter c = asked.get();
                PartitionView view =
                    c == null ? null : c.view(partitionId, config.columnsRefresh());
                return view == null ? null : view.settingsVersion();
              },
              metrics);
      CoordinatorRole role = null;
      RangeCommitter committer = new DirectCommitter(protocol);
      if (commit.coordinated()) {
        TableIdentifier id = EventsTable.identifier(config.table());
        role =
            new CoordinatorRole(
                partitionId,
                commit,
                catalog.loadTable(id),
                () -> catalog.loadTable(id),
                address,
                owner(),
                metrics);
        committer = new CoordinatedCommitter(protocol, role, commit, metrics);
      }
      asked.set(committer);
      Flusher flusher =
          new Flusher(
              buffer,
              protocol,
              committer,
              claim,
              deadLetters,
              config,
              metrics,
              columns::current,
              onFenced,
              onDeath);
      columns.onSettingsChanged(flusher::tableChanged);
      phases.mark("columns and flusher");
      LOG.info(
          "partition {} joined the table in {} ms ({})", partitionId, phases.totalMillis(), phases);
      return new Flushing(catalog, columns, flusher, role);
    } catch (Exception e) {
      if (catalog instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception closing) {
          e.addSuppressed(closing);
        }
      }
      throw e;
    }
  }

  /**
   * Before claiming: if another process claimed the partition after this buffer's last claim, the
   * events this buffer acknowledged above what was committed when that claim ended were never
   * committed, and their sequences may now hold the other process's events. They are marked for
   * salvage and the claim is refused, instead of being dropped as "committed" by the recovery. The
   * same for the dead letters, against the dead-letter table's own claims and committed sequence.
   *
   * <p>A claim above the buffer's that carries this buffer's id is this node's own, made by an
   * earlier try whose answer was lost (or that died before recording it): it is adopted, not taken
   * for another process's.
   */
  private static void checkNothingToSalvage(
      RocksBuffer buffer, CommitProtocol protocol, CommitProtocol deadProtocol, int partitionId)
      throws Exception {
    long salvageAfter = buffer.salvageAfter();
    long localEpoch = buffer.claimEpoch();
    if (salvageAfter < 0 && localEpoch > 0) {
      salvageAfter =
          salvageMark(
              protocol,
              localEpoch,
              buffer::recordClaimEpoch,
              buffer.committedSequence(),
              buffer.lastEvent(),
              buffer.bufferId(),
              "events",
              partitionId);
      if (salvageAfter >= 0) {
        buffer.markSalvage(salvageAfter);
      }
    }
    long deadSalvageAfter = buffer.deadSalvageAfter();
    if (deadSalvageAfter < 0 && buffer.deadLettersPending()) {
      deadSalvageAfter =
          salvageMark(
              deadProtocol,
              buffer.deadClaimEpoch(),
              buffer::recordDeadClaimEpoch,
              buffer.deadLettersCommitted(),
              buffer.lastDeadLetter(),
              buffer.bufferId(),
              "dead-letter",
              partitionId);
      if (deadSalvageAfter >= 0) {
        buffer.markDeadSalvage(deadSalvageAfter);
      }
    }
    if (salvageAfter >= 0 || deadSalvageAfter >= 0) {
      String what =
          (salvageAfter >= 0 ? "events " + (salvageAfter + 1) + ".." + buffer.lastEvent() : "")
              + (salvageAfter >= 0 && deadSalvageAfter >= 0 ? " and " : "")
              + (deadSalvageAfter >= 0
                  ? "dead letters " + (deadSalvageAfter + 1) + ".." + buffer.lastDeadLetter()
                  : "");
      throw new SalvageNeededException(
          "partition "
              + partitionId
              + ": this buffer holds "
              + what
              + " acknowledged under a claim that another process"
              + " has since taken; they were never committed. This node will not claim the partition until they are"
              + " salvaged: stop it and run scripts/salvage --buffer-dir "
              + buffer.config().dir()
              + " --partition-id "
              + partitionId
              + " --out FILE, then scripts/salvage --resend FILE --url ROUTER_URL (they are new events"
              + " and dead letters there), and restart");
    }
  }

  /** Records a table's claim epoch in the buffer. */
  @FunctionalInterface
  private interface EpochRecord {
    void record(long epoch) throws Exception;
  }

  /**
   * Where salvage starts for one table: -1 when nobody else claimed {@code protocol}'s table since
   * this buffer's claim of it ({@code localEpoch}, 0 when none is recorded: a buffer of an earlier
   * release, for the dead-letter table), or when all this buffer holds for it ({@code last} is its
   * last sequence) is at or below what was committed when that claim ended ({@code localCommitted}
   * when the table no longer tells); else that committed sequence, above which everything was
   * acknowledged and never committed.
   */
  private static long salvageMark(
      CommitProtocol protocol,
      long localEpoch,
      EpochRecord adopt,
      long localCommitted,
      long last,
      String bufferId,
      String table,
      int partitionId)
      throws Exception {
    long own = protocol.epochClaimedBy(bufferId);
    if (own > localEpoch) {
      LOG.warn(
          "partition {}: the {} table records epoch {}, claimed for this buffer by an earlier try "
              + "whose answer was lost (or by a release that did not record it); this buffer had "
              + "recorded epoch {}. Taking it as ours",
          partitionId,
          table,
          own,
          localEpoch);
      adopt.record(own);
      localEpoch = own;
    }
    if (protocol.currentEpoch() <= localEpoch) {
      return -1;
    }
    long ended = localEpoch > 0 ? protocol.finalCommittedOf(localEpoch) : -1;
    if (ended < 0) {
      LOG.warn(
          "partition {}: the {} table no longer records what was committed under epoch {} (its "
              + "snapshots expired and {} or more claims followed, or this buffer did not record "
              + "its claim): salvage takes everything above this buffer's committed sequence {}, "
              + "some of which the table may hold",
          partitionId,
          table,
          localEpoch,
          CommitProtocol.EPOCH_HISTORY,
          localCommitted);
    }
    long ours = Math.max(localCommitted, ended);
    return last > ours ? ours : -1;
  }

  private static String owner() {
    return ManagementFactory.getRuntimeMXBean().getName();
  }
}
