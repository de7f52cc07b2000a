package io.floe.catalog.commit;

import io.floe.catalog.table.FloeTableKeys;
import io.floe.common.retry.Backoff;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotAncestryValidator;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.Transactions;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.util.SnapshotUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a node commits its partition's events to the shared table, exactly once.
 *
 * <p>One Iceberg transaction appends the files and records, in the new snapshot's summary and in
 * the table properties, the partition's new committed sequence and the committer's epoch. A
 * snapshot-ancestry validator runs on every attempt, also on Iceberg's retries after a concurrent
 * commit by another node, and refuses the commit unless the newest recorded epoch is still ours and
 * the newest committed sequence is the one our range starts after. So a range is committed once,
 * and a process whose partition was claimed by another (a higher epoch) can never commit again: it
 * gets {@link FencedException}.
 *
 * <p>A claim is itself a (file-less) snapshot that raises the epoch; since it changes the main
 * branch, any commit prepared against the older state conflicts and is re-validated. It records who
 * claimed (the holder: the claimant's buffer, so that a node whose claim answer was lost recognises
 * its own claim) and, in the table properties, the committed sequence at which the epoch it ends
 * stopped ({@link #finalCommittedOf}), for the last {@value #EPOCH_HISTORY} epochs.
 *
 * <p>Under this process's epoch nobody else commits the partition: a committed sequence found
 * beyond the start of a range was committed by an earlier attempt of this process whose answer was
 * lost ({@link EarlierCommitLandedException}), not by another process.
 *
 * <p>A commit the catalog refuses although it applied it (a 409 after the update went through) is
 * recognised as landed before Iceberg can delete its manifests ({@link RefusalCheckingOperations}).
 * When a range is found committed by an attempt whose answer said otherwise, the files of the
 * snapshot that committed it are checked before the commit is reported done: if they are gone, the
 * commit fails with {@link CommitFilesMissingException} and the caller keeps the range.
 */
public final class CommitProtocol {
  private static final Logger LOG = LoggerFactory.getLogger(CommitProtocol.class);
  private static final int CLAIM_ATTEMPTS = 10;

  /** How often one commit is planned again when its planning snapshot left main's history. */
  private static final int COMMIT_ROUNDS = 5;

  /**
   * How many ended epochs of a partition keep their final committed sequence in the table
   * properties: a node whose partition was claimed more often than this while it was down finds its
   * epoch's only in the snapshots, while they last.
   */
  public static final int EPOCH_HISTORY = 16;

  private final Table table;

  /** The table's operations, through which every transaction of this protocol commits. */
  private final RefusalCheckingOperations ops;

  private final int partition;
  private final String owner;
  private final String holder;
  private final AtomicLong attempts = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong filesMissing = new AtomicLong();

  /** The snapshot of this process's last commit, or -1. */
  private volatile long lastSnapshotId = -1;

  /** A protocol whose claims no later process recognises as its own (a random holder). */
  public CommitProtocol(Table table, int partition, String owner) {
    this(table, partition, owner, UUID.randomUUID().toString());
  }

  /**
   * @param owner the process, for people reading the table's history
   * @param holder what this process's claims are recognised by later ({@link #epochClaimedBy}): an
   *     id kept with the events claimed for, e.g. the node's buffer's
   */
  public CommitProtocol(Table table, int partition, String owner, String holder) {
    if (!(table instanceof BaseTable base)) {
      throw new IllegalArgumentException(
          "the commit protocol needs a catalog table (BaseTable), not " + table.getClass());
    }
    this.table = table;
    this.ops = new RefusalCheckingOperations(base.operations());
    this.partition = partition;
    this.owner = owner;
    this.holder = holder;
  }

  /**
   * Raises the partition's epoch to claim it; an earlier holder is fenced from then on. A claim
   * that races another commit to this partition is read again and retried, a few times.
   *
   * @throws ClaimRacedException when every attempt raced another process
   */
  public PartitionClaim claim() {
    try {
      return Backoff.exponential(Duration.ofMillis(10), Duration.ofMillis(500))
          .maxAttempts(CLAIM_ATTEMPTS)
          .call(this::claimOnce, e -> e instanceof ValidationException, (e, attempt, delay) -> {});
    } catch (Backoff.GaveUpException e) {
      throw new ClaimRacedException(
          "could not claim partition "
              + partition
              + ": "
              + e.attempts()
              + " attempts raced other commits to it",
          e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ClaimRacedException("claim of partition " + partition + " interrupted", e);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("claim of partition " + partition + " failed", e);
    }
  }

  private PartitionClaim claimOnce() {
    table.refresh();
    Long plannedOn = plannedOn();
    PartitionState state = PartitionState.of(table, partition);
    long epoch = state.epoch() + 1;
    Transaction tx = newTransaction();
    String committed = Long.toString(state.committedSequence());
    tx.newFastAppend()
        .set(PartitionState.epochKey(partition), Long.toString(epoch))
        .set(PartitionState.committedKey(partition), committed)
        .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_CLAIM)
        .set(FloeTableKeys.OWNER, owner)
        .set(FloeTableKeys.partitionHolder(partition), holder)
        .validateWith(new Expect(state.epoch(), state.committedSequence(), false, plannedOn))
        .commit();
    UpdateProperties properties =
        tx.updateProperties()
            .set(PartitionState.epochKey(partition), Long.toString(epoch))
            .set(PartitionState.committedKey(partition), committed)
            .set(FloeTableKeys.partitionHolder(partition), holder);
    if (state.epoch() > 0) {
      // the validator sees to it that nothing was committed under the ended epoch since this read
      properties.set(
          FloeTableKeys.partitionEpochCommittedSequence(partition, state.epoch()), committed);
    }
    for (String key : table.properties().keySet()) {
      long ended = FloeTableKeys.epochOfCommittedSequenceKey(partition, key);
      if (ended >= 0 && ended <= state.epoch() - EPOCH_HISTORY) {
        properties.remove(key);
      }
    }
    properties.commit();
    // a ValidationException here: another process claimed or committed at the same moment
    tx.commitTransaction();
    lastSnapshotId = snapshotCommitting(state.committedSequence());
    return new PartitionClaim(partition, epoch, state.committedSequence());
  }

  /**
   * Commits {@code files} holding exactly the sequences {@code (after, through]} of this partition.
   *
   * @return the new committed sequence ({@code through})
   * @throws FencedException when another process holds the partition now
   * @throws ValidationException when every round was refused while the partition stayed as planned
   *     (its planning snapshot kept leaving main's history): nothing landed, retry later
   */
  public long commit(
      PartitionClaim claim,
      long after,
      long through,
      List<DataFile> files,
      Map<String, String> summary) {
    for (int round = 1; ; round++) {
      Long replanned = attempt(claim, after, through, files, summary, round < COMMIT_ROUNDS);
      if (replanned != null) {
        return replanned;
      }
      LOG.info(
          "partition {}: the attempt at {}..{} was refused while the partition stayed as planned"
              + " (its planning snapshot left main's history: expired by maintenance, or main"
              + " moved); planning it again (round {})",
          partition,
          after + 1,
          through,
          round + 1);
    }
  }

  /**
   * One planned attempt of {@link #commit}: the committed sequence, or null when the table refused
   * it although the partition's state is still the planned one (the snapshot it was planned on left
   * main's history while Iceberg retried, e.g. expired by table maintenance): then it is planned
   * again on the table as it is, unless {@code mayReplan} is false (the last round), when the
   * refusal is thrown to the caller, who retries later.
   */
  private Long attempt(
      PartitionClaim claim,
      long after,
      long through,
      List<DataFile> files,
      Map<String, String> summary,
      boolean mayReplan) {
    table.refresh();
    Long plannedOn = plannedOn();
    PartitionState before = PartitionState.of(table, partition);
    if (before.epoch() != claim.epoch()) {
      throw fenced(before.epoch(), claim);
    }
    if (before.committedSequence() == through && through > after) {
      // an earlier attempt at this very range landed but its answer was lost: under our epoch
      // nobody else commits this partition, so the range is ours and committed
      return landed(after, through);
    }
    if (before.committedSequence() > after) {
      throw landedEarlier(after, through, before.committedSequence());
    }
    if (before.committedSequence() != after) {
      throw new FencedException(
          "partition "
              + partition
              + " is committed through "
              + before.committedSequence()
              + ", not "
              + after
              + ": another process committed it");
    }
    Transaction tx = newTransaction();
    AppendFiles append = tx.newFastAppend();
    files.forEach(append::appendFile);
    summary.forEach(append::set);
    append
        .set(PartitionState.epochKey(partition), Long.toString(claim.epoch()))
        .set(PartitionState.committedKey(partition), Long.toString(through))
        .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_FLUSH)
        .set(FloeTableKeys.PARTITION_ID, Integer.toString(partition))
        .set(FloeTableKeys.SEQUENCE_RANGE, (after + 1) + "-" + through)
        .validateWith(new Expect(claim.epoch(), after, true, plannedOn))
        .commit();
    tx.updateProperties()
        .set(PartitionState.epochKey(partition), Long.toString(claim.epoch()))
        .set(PartitionState.committedKey(partition), Long.toString(through))
        .commit();
    try {
      tx.commitTransaction();
    } catch (ValidationException e) {
      table.refresh();
      PartitionState now = PartitionState.of(table, partition);
      if (now.epoch() != claim.epoch()) {
        throw fenced(now.epoch(), claim);
      }
      if (now.committedSequence() == through) {
        // Iceberg retried after a lost answer and found its own first attempt applied
        return landed(after, through);
      }
      if (now.committedSequence() > after) {
        // an earlier attempt, given up on, landed while this one was on its way
        throw landedEarlier(after, through, now.committedSequence());
      }
      if (now.committedSequence() == after) {
        // nobody committed the partition since the plan: the refusal was about the snapshot it was
        // planned on, which main no longer holds (expired, or main moved); not a fence
        if (mayReplan) {
          return null;
        }
        throw e;
      }
      throw new FencedException(
          "partition "
              + partition
              + " was committed through "
              + now.committedSequence()
              + " by another process while committing "
              + (after + 1)
              + ".."
              + through);
    } catch (CommitStateUnknownException e) {
      // the catalog may have applied it: the recorded state tells
      table.refresh();
      PartitionState now = PartitionState.of(table, partition);
      if (now.epoch() == claim.epoch() && now.committedSequence() == through) {
        return landed(after, through);
      }
      throw e;
    }
    commits.incrementAndGet();
    lastSnapshotId = snapshotCommitting(through);
    return through;
  }

  /**
   * Reports {@code (after, through]} committed by an attempt whose answer said otherwise, once the
   * files of the snapshot that committed it are known to exist: a refused or failed attempt may
   * have had them deleted by Iceberg's clean-up.
   *
   * @throws CommitFilesMissingException when they are gone
   */
  private long landed(long after, long through) {
    lastSnapshotId = checkFilesOfCommit(after, through);
    commits.incrementAndGet();
    return through;
  }

  /**
   * The answer to an attempt at {@code (after, through]} that found the partition committed through
   * {@code committed} (beyond {@code after}, not {@code through}) under our epoch: an earlier
   * attempt of this process landed, and this one's files were not committed.
   *
   * @throws CommitFilesMissingException when the files of the snapshot that landed are gone
   */
  private EarlierCommitLandedException landedEarlier(long after, long through, long committed) {
    lastSnapshotId = checkFilesOfCommit(after, committed);
    commits.incrementAndGet();
    String message =
        "partition "
            + partition
            + " is committed through "
            + committed
            + " under this process's epoch, by an earlier attempt whose answer was lost; the attempt"
            + " at "
            + (after + 1)
            + ".."
            + through
            + " committed nothing: continue from "
            + committed;
    LOG.warn(message);
    return new EarlierCommitLandedException(message, committed);
  }

  /**
   * The snapshot that committed {@code (after, through]} (-1 when it expired), once its files are
   * known to exist.
   *
   * @throws CommitFilesMissingException when they are gone
   */
  private long checkFilesOfCommit(long after, long through) {
    long snapshotId = snapshotCommitting(through);
    List<String> missing =
        snapshotId < 0 ? List.of() : SnapshotFiles.missing(table.io(), table.snapshot(snapshotId));
    if (!missing.isEmpty()) {
      filesMissing.incrementAndGet();
      String problem =
          "partition "
              + partition
              + ": snapshot "
              + snapshotId
              + " committed sequences "
              + (after + 1)
              + ".."
              + through
              + ", but its files are gone: "
              + missing;
      LOG.error(
          "{}; the table cannot be scanned or appended to until it is repaired, and this process "
              + "keeps the range",
          problem);
      throw new CommitFilesMissingException(problem);
    }
    return snapshotId;
  }

  /** The snapshot the table's state was just read on (null for a table without one). */
  private Long plannedOn() {
    Snapshot current = table.currentSnapshot();
    return current == null ? null : current.snapshotId();
  }

  /** A transaction over the table whose refusals are checked before Iceberg cleans up. */
  private Transaction newTransaction() {
    return Transactions.newTransaction(table.name(), ops, ((BaseTable) table).reporter());
  }

  /** The snapshot of this process's last successful commit, or -1 before the first. */
  public long lastSnapshotId() {
    return lastSnapshotId;
  }

  /**
   * The newest snapshot in the current ancestry that recorded {@code sequence} as this partition's
   * committed sequence, or -1 (expired, or never).
   */
  public long snapshotCommitting(long sequence) {
    String committedKey = PartitionState.committedKey(partition);
    String value = Long.toString(sequence);
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return -1;
    }
    for (Snapshot s : SnapshotUtil.ancestorsOf(current.snapshotId(), table::snapshot)) {
      String recorded = s.summary().get(committedKey);
      if (recorded == null && PartitionState.advancedInProperties(s, partition)) {
        // the newest record is a batch commit's, kept in the properties (claims carry it on)
        recorded = table.properties().get(committedKey);
        return value.equals(recorded) ? s.snapshotId() : -1;
      }
      if (recorded != null
          && !FloeTableKeys.OPERATION_CLAIM.equals(s.summary().get(FloeTableKeys.OPERATION))) {
        return recorded.equals(value) ? s.snapshotId() : -1;
      }
    }
    return -1;
  }

  /** The partition's epoch as the table records it now: the last claim's. */
  public long currentEpoch() {
    table.refresh();
    return PartitionState.of(table, partition).epoch();
  }

  /**
   * The partition's committed sequence when {@code epoch} ended, or -1 when the table no longer
   * tells: what a process that held that claim had committed before another claimed the partition.
   * Read from the table properties (written by the claim that ended the epoch, for the last {@value
   * #EPOCH_HISTORY} epochs), else from the snapshots while they last. As of the last refresh.
   */
  public long finalCommittedOf(long epoch) {
    String recorded =
        table.properties().get(FloeTableKeys.partitionEpochCommittedSequence(partition, epoch));
    if (recorded != null) {
      return Long.parseLong(recorded);
    }
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return -1;
    }
    String epochKey = PartitionState.epochKey(partition);
    String committedKey = PartitionState.committedKey(partition);
    boolean batchSeen = false;
    for (Snapshot s : SnapshotUtil.ancestorsOf(current.snapshotId(), table::snapshot)) {
      Map<String, String> summary = s.summary();
      if (PartitionState.advancedInProperties(s, partition)) {
        // a batch commit does not name the partition's epoch in its summary
        batchSeen = true;
        continue;
      }
      String recordedEpoch = summary.get(epochKey);
      if (recordedEpoch == null || !summary.containsKey(committedKey)) {
        continue;
      }
      boolean claim = FloeTableKeys.OPERATION_CLAIM.equals(summary.get(FloeTableKeys.OPERATION));
      // the claim that ended the epoch recorded where it stopped; a commit under it, what it had
      // reached (the newest such is the last, when the claim that ended it has expired, unless a
      // newer batch commit may have advanced it further: then the snapshots no longer tell)
      if (claim && Long.toString(epoch + 1).equals(recordedEpoch)) {
        return Long.parseLong(summary.get(committedKey));
      }
      if (!claim && Long.toString(epoch).equals(recordedEpoch)) {
        return batchSeen ? -1 : Long.parseLong(summary.get(committedKey));
      }
    }
    return -1;
  }

  /**
   * The partition's epoch when the table records that its claim was made by {@code holder}, else
   * -1. Refreshes the table first.
   */
  public long epochClaimedBy(String holder) {
    table.refresh();
    PartitionState now = PartitionState.of(table, partition);
    return holder.equals(table.properties().get(FloeTableKeys.partitionHolder(partition)))
        ? now.epoch()
        : -1;
  }

  /** The partition's committed sequence as the table records it now. */
  public long committedSequence() {
    table.refresh();
    return PartitionState.of(table, partition).committedSequence();
  }

  /**
   * The committed sequence the table records for this claim now. After a commit attempt whose
   * outcome is unknown (its answer lost, a failed refresh), this tells whether it landed: under our
   * epoch only this process commits the partition.
   *
   * @throws FencedException when another process claimed the partition since
   */
  public long committedUnder(PartitionClaim claim) {
    table.refresh();
    PartitionState now = PartitionState.of(table, partition);
    if (now.epoch() != claim.epoch()) {
      throw fenced(now.epoch(), claim);
    }
    return now.committedSequence();
  }

  /** Commit attempts made, including Iceberg's retries after conflicts with other committers. */
  public long attempts() {
    return attempts.get();
  }

  /** Attempts beyond one per successful commit: conflicts with other committers and failures. */
  public long retries() {
    return Math.max(0, attempts.get() - commits.get());
  }

  /** Successful commits. */
  public long commits() {
    return commits.get();
  }

  /**
   * Commits found landed with their manifest list or manifests deleted: each needs an operator (the
   * table cannot be scanned until it is repaired).
   */
  public long filesMissing() {
    return filesMissing.get();
  }

  public Table table() {
    return table;
  }

  private FencedException fenced(long tableEpoch, PartitionClaim claim) {
    return new FencedException(
        "partition "
            + partition
            + " was claimed by another process (epoch "
            + tableEpoch
            + ", ours "
            + claim.epoch()
            + "); this process stops committing");
  }

  /**
   * Refuses an attempt unless the newest recorded epoch and committed sequence are the expected
   * ones. A batch commit records a partition's state in the table properties only, which a
   * validator cannot see: one that advanced the partition before the snapshot the attempt was
   * planned on was read through the properties; one after it refuses the attempt (read again).
   */
  private final class Expect implements SnapshotAncestryValidator {
    private final long epoch;
    private final long committed;
    private final boolean counted;
    private final Long plannedOn;
    private String failure = "";

    Expect(long epoch, long committed, boolean counted, Long plannedOn) {
      this.epoch = epoch;
      this.committed = committed;
      this.counted = counted;
      this.plannedOn = plannedOn;
    }

    @Override
    public boolean validate(Iterable<Snapshot> ancestry) {
      if (counted) {
        attempts.incrementAndGet();
      }
      if (!PartitionState.holds(ancestry, plannedOn)) {
        failure =
            "main no longer holds snapshot "
                + plannedOn
                + ", which this attempt was planned on (was it rolled back?)";
        return false;
      }
      String epochKey = PartitionState.epochKey(partition);
      String committedKey = PartitionState.committedKey(partition);
      Long seenEpoch = null;
      Long seenCommitted = null;
      boolean planned = false;
      for (Snapshot s : ancestry) {
        planned |= plannedOn != null && s.snapshotId() == plannedOn;
        if (seenEpoch == null && s.summary().containsKey(epochKey)) {
          seenEpoch = Long.parseLong(s.summary().get(epochKey));
        }
        if (seenCommitted == null && s.summary().containsKey(committedKey)) {
          seenCommitted = Long.parseLong(s.summary().get(committedKey));
        }
        if ((seenEpoch == null || seenCommitted == null)
            && PartitionState.advancedInProperties(s, partition)) {
          if (!planned) {
            failure =
                "partition "
                    + partition
                    + " was advanced by batch commit "
                    + s.snapshotId()
                    + " since this attempt read the table";
            return false;
          }
          break;
        }
        if (seenEpoch != null && seenCommitted != null) {
          break;
        }
      }
      // absent from the ancestry (expired): the properties were checked before the attempt
      boolean ok =
          (seenEpoch == null || seenEpoch == epoch)
              && (seenCommitted == null || seenCommitted == committed);
      if (!ok) {
        failure =
            "partition "
                + partition
                + ": expected epoch "
                + epoch
                + " and committed "
                + committed
                + ", table has epoch "
                + seenEpoch
                + " and committed "
                + seenCommitted;
      }
      return ok;
    }

    @Override
    public String errorMessage() {
      return failure;
    }
  }
}
