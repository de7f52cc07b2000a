package io.floe.catalog.commit;

import io.floe.catalog.table.FloeTableKeys;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableMetadataParser;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.Transactions;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.util.PropertyUtil;
import org.apache.iceberg.util.SnapshotUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the coordinator commits the ranges nodes handed over, of many partitions, in ONE Iceberg
 * transaction, exactly once per range.
 *
 * <p>The transaction is a merge append ({@code newAppend}: Iceberg merges small manifests, so their
 * count stays bounded however many commits there are) that sets, for every advanced partition, the
 * same two table properties {@link CommitProtocol} sets ({@code floe.partition.<p>.epoch} and
 * {@code .committed-sequence}), and whose summary names the advanced partitions compactly ({@code
 * floe.advanced-partitions}, a {@link PartitionSet}) instead of repeating both keys for each: a few
 * hundred bytes per snapshot however many partitions, so the metadata file stays bounded at any
 * cluster size. It records itself as the properties' writer ({@code floe.advanced-by}), so that
 * after a rollback of main across it nobody reads them ({@link StateNotInHistoryException}). A
 * table whose {@code floe.batch-summary} is {@code keyed} gets both keys per partition in the
 * summary instead, as the release before wrote them. The summary also records {@code
 * floe.operation=flush}, the committer's {@code floe.coordinator.epoch}, a fresh {@code
 * floe.commit-id}, {@code floe.partitions} and {@code floe.events}. Direct commits and batch
 * commits read ({@link PartitionState}) and write the same property keys, so a cluster can switch
 * node by node.
 *
 * <p>Each range is planned against the table: a newer epoch than the range's → {@link
 * HandoverAnswer.Fenced}; committed at or beyond its end under its epoch → {@link
 * HandoverAnswer.Committed} (a re-send after a lost answer or a failover); committed elsewhere than
 * its start → {@link HandoverAnswer.Mismatch}; else it is included (contiguous ranges of one
 * partition advance it together). {@link ExpectAll} validates every attempt. When an attempt is
 * refused or its outcome unknown, the table is read again: one of this call's commit ids in the
 * ancestry → its ranges are committed (a lost answer); a newer coordinator epoch → {@link
 * CoordinatorFencedException}; otherwise the ranges are planned again, so the partitions that now
 * fail are answered and the others retried at once: one bad partition never blocks the rest.
 *
 * <p>Every attempt goes through {@link RefusalCheckingOperations}, so Iceberg's clean-up after a
 * refusal never deletes the files of an attempt that landed; a range found committed by an attempt
 * whose answer said otherwise is reported committed only once that snapshot's files are found
 * ({@link SnapshotFiles}), else {@link HandoverAnswer.Failed}.
 *
 * <p>Not thread-safe: one commit at a time, by the one coordinator.
 */
public final class BatchCommit {
  private static final Logger LOG = LoggerFactory.getLogger(BatchCommit.class);

  /** Plans after which a batch whose attempts keep being refused gives up (answered Failed). */
  static final int MAX_ROUNDS = 10;

  /**
   * One handed-over range: the partition's sequences {@code (after, through]}, written by the
   * holder of {@code epoch} into {@code files}.
   */
  public record Range(
      int partition, long epoch, long after, long through, List<DataFile> files, long events) {
    public Range {
      if (through <= after) {
        throw new IllegalArgumentException(
            "range of partition " + partition + " is empty: (" + after + ", " + through + "]");
      }
      files = List.copyOf(files);
    }
  }

  private final Table table;
  private final RefusalCheckingOperations ops;
  private final AtomicLong attempts = new AtomicLong();
  private final AtomicLong commits = new AtomicLong();
  private final AtomicLong filesMissing = new AtomicLong();
  private volatile TableShape shape = TableShape.UNKNOWN;
  private long shapeMeasuredNanos;

  /** The metadata JSON is serialised to count its bytes at most this often (it can be MBs). */
  private static final long METADATA_BYTES_SPACING_NANOS = TimeUnit.SECONDS.toNanos(30);

  /**
   * The table as of this committer's last landed commit, read from the metadata the commit returned
   * (no extra table load): its metadata JSON's size (what metadata.json holds, uncompressed;
   * re-measured at most every 30 s), the current snapshot's manifests (from its summary) and the
   * snapshots the metadata keeps; -1 where not known yet.
   */
  public record TableShape(long metadataBytes, long manifests, long snapshots) {
    static final TableShape UNKNOWN = new TableShape(-1, -1, -1);
  }

  /** Whether the table's metadata is as of this committer's own last commit (no refresh needed). */
  private boolean fresh;

  public BatchCommit(Table table) {
    if (!(table instanceof BaseTable base)) {
      throw new IllegalArgumentException(
          "a batch commit needs a catalog table (BaseTable), not " + table.getClass());
    }
    this.table = table;
    this.ops = new RefusalCheckingOperations(base.operations());
  }

  /**
   * Commits as many of {@code ranges} as the table allows, in one transaction, under {@code
   * coordinatorEpoch}.
   *
   * @return one answer per range, in order: Committed, Fenced, Mismatch, or Failed
   * @throws CoordinatorFencedException when a newer coordinator claim superseded {@code
   *     coordinatorEpoch}: nothing of this call landed after it
   */
  public List<HandoverAnswer> commit(long coordinatorEpoch, List<Range> ranges) {
    HandoverAnswer[] answers = new HandoverAnswer[ranges.size()];
    // the ranges each attempt of this call included, by its commit id
    Map<String, List<Integer>> attemptsById = new HashMap<>();
    for (int round = 0; round < MAX_ROUNDS; round++) {
      if (!fresh || aheadOfView(ranges, answers)) {
        table.refresh();
      }
      fresh = false;
      Snapshot landed = snapshotWithCommitId(attemptsById.keySet());
      if (landed != null) {
        // an earlier attempt of this call landed although its answer said otherwise
        markLanded(
            answers,
            ranges,
            attemptsById.remove(landed.summary().get(FloeTableKeys.COMMIT_ID)),
            landed);
        attemptsById.clear();
      }
      checkStateInHistory();
      long tableCoordinator = coordinatorEpoch(table);
      if (tableCoordinator != coordinatorEpoch) {
        throw new CoordinatorFencedException(
            "coordinator epoch "
                + coordinatorEpoch
                + " was superseded: the table records "
                + tableCoordinator,
            tableCoordinator);
      }
      Map<Integer, PartitionState> expected = new LinkedHashMap<>();
      Map<Integer, Long> advance = new HashMap<>();
      List<Integer> included = plan(ranges, answers, expected, advance);
      if (included.isEmpty()) {
        fresh = true;
        return List.of(answers);
      }
      String commitId = UUID.randomUUID().toString();
      attemptsById.put(commitId, included);
      try {
        attempt(coordinatorEpoch, commitId, ranges, included, expected, advance);
      } catch (ValidationException | CommitFailedException | CommitStateUnknownException e) {
        LOG.info(
            "batch commit of {} ranges under coordinator epoch {} not applied ({}); reading the"
                + " table again",
            included.size(),
            coordinatorEpoch,
            e.getMessage());
        continue;
      }
      commits.incrementAndGet();
      measure();
      Snapshot current = table.currentSnapshot();
      long snapshotId =
          commitId.equals(current.summary().get(FloeTableKeys.COMMIT_ID))
              ? current.snapshotId()
              : idOf(snapshotWithCommitId(Set.of(commitId)));
      for (int i : included) {
        answers[i] = new HandoverAnswer.Committed(ranges.get(i).through(), snapshotId);
      }
      fresh = true;
      return List.of(answers);
    }
    for (int i = 0; i < answers.length; i++) {
      if (answers[i] == null) {
        answers[i] =
            new HandoverAnswer.Failed(
                "every attempt of " + MAX_ROUNDS + " was refused by the catalog or a conflict");
      }
    }
    return List.of(answers);
  }

  /**
   * Whether a range was made under a newer epoch, or starts after a newer committed sequence, than
   * the metadata this committer holds from its own last commit records: the partition was claimed
   * (or committed directly) since, and answering from the old view would fence its new holder.
   */
  private boolean aheadOfView(List<Range> ranges, HandoverAnswer[] answers) {
    Map<Integer, PartitionState> seen = new HashMap<>();
    for (int i = 0; i < ranges.size(); i++) {
      Range r = ranges.get(i);
      if (answers[i] != null) {
        continue;
      }
      PartitionState state = seen.computeIfAbsent(r.partition(), p -> PartitionState.of(table, p));
      if (r.epoch() > state.epoch() || r.after() > state.committedSequence()) {
        return true;
      }
    }
    return false;
  }

  /**
   * Answers the ranges the table decides, and returns the indexes of the rest, to be committed;
   * fills the expected state and the new committed sequence of each advanced partition.
   */
  private List<Integer> plan(
      List<Range> ranges,
      HandoverAnswer[] answers,
      Map<Integer, PartitionState> expected,
      Map<Integer, Long> advance) {
    Map<Integer, List<Integer>> byPartition = new LinkedHashMap<>();
    for (int i = 0; i < ranges.size(); i++) {
      if (answers[i] == null) {
        byPartition.computeIfAbsent(ranges.get(i).partition(), p -> new ArrayList<>()).add(i);
      }
    }
    List<Integer> included = new ArrayList<>();
    byPartition.forEach(
        (p, indexes) -> {
          PartitionState state = PartitionState.of(table, p);
          indexes.sort(Comparator.comparingLong(i -> ranges.get(i).after()));
          long cursor = state.committedSequence();
          for (int i : indexes) {
            Range r = ranges.get(i);
            if (r.epoch() != state.epoch()) {
              answers[i] = new HandoverAnswer.Fenced(state.epoch());
            } else if (state.committedSequence() >= r.through()) {
              answers[i] = committedEarlier(p, r);
            } else if (r.after() == cursor) {
              included.add(i);
              cursor = r.through();
            } else {
              answers[i] = new HandoverAnswer.Mismatch(state.committedSequence());
            }
          }
          if (cursor != state.committedSequence()) {
            expected.put(p, state);
            advance.put(p, cursor);
          }
        });
    return included;
  }

  /** A range the table records committed (a re-send): the snapshot that committed it, checked. */
  private HandoverAnswer committedEarlier(int partition, Range r) {
    Snapshot s = snapshotCommitting(partition, r.through());
    if (s != null) {
      List<String> missing = SnapshotFiles.missing(table.io(), s);
      if (!missing.isEmpty()) {
        return filesGone(s, missing);
      }
    }
    return new HandoverAnswer.Committed(r.through(), s == null ? -1 : s.snapshotId());
  }

  private void attempt(
      long coordinatorEpoch,
      String commitId,
      List<Range> ranges,
      List<Integer> included,
      Map<Integer, PartitionState> expected,
      Map<Integer, Long> advance) {
    // the snapshot the expected state was read on, before anything can refresh the table
    Snapshot planned = table.currentSnapshot();
    // the table was read (or written by this committer) just before planning: the transaction
    // need not load it again, unless the catalog refuses the attempt
    ops.skipRefreshes();
    try {
      attempt(
          Transactions.newTransaction(table.name(), ops, ((BaseTable) table).reporter()),
          planned == null ? null : planned.snapshotId(),
          coordinatorEpoch,
          commitId,
          ranges,
          included,
          expected,
          advance);
    } finally {
      ops.refreshNormally();
    }
  }

  private void attempt(
      Transaction tx,
      Long plannedOn,
      long coordinatorEpoch,
      String commitId,
      List<Range> ranges,
      List<Integer> included,
      Map<Integer, PartitionState> expected,
      Map<Integer, Long> advance) {
    AppendFiles append = tx.newAppend();
    long events = 0;
    for (int i : included) {
      Range r = ranges.get(i);
      r.files().forEach(append::appendFile);
      events += r.events();
    }
    boolean keyed =
        FloeTableKeys.BATCH_SUMMARY_KEYED.equals(
            table.properties().get(FloeTableKeys.BATCH_SUMMARY));
    if (keyed) {
      // as the release before wrote it, for its nodes while a cluster is rolled from it
      for (Map.Entry<Integer, Long> e : advance.entrySet()) {
        int p = e.getKey();
        append
            .set(PartitionState.epochKey(p), Long.toString(expected.get(p).epoch()))
            .set(PartitionState.committedKey(p), Long.toString(e.getValue()));
      }
    } else {
      append.set(FloeTableKeys.ADVANCED_PARTITIONS, PartitionSet.encode(advance.keySet()));
    }
    append
        .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_FLUSH)
        .set(FloeTableKeys.COORDINATOR_EPOCH, Long.toString(coordinatorEpoch))
        .set(FloeTableKeys.COMMIT_ID, commitId)
        .set(FloeTableKeys.PARTITIONS, Integer.toString(advance.size()))
        .set(FloeTableKeys.EVENTS, Long.toString(events))
        .validateWith(new ExpectAll(coordinatorEpoch, expected, attempts, plannedOn))
        .commit();
    UpdateProperties properties =
        tx.updateProperties().set(FloeTableKeys.COORDINATOR_EPOCH, Long.toString(coordinatorEpoch));
    if (!keyed) {
      // the snapshot id stays the same on Iceberg's retries of this transaction; its sequence
      // number may grow, never shrink, so the one recorded stays at or below the snapshot's
      Snapshot pending = tx.table().currentSnapshot();
      properties.set(
          FloeTableKeys.ADVANCED_BY,
          StateHistory.value(pending.snapshotId(), pending.sequenceNumber()));
    }
    for (Map.Entry<Integer, Long> e : advance.entrySet()) {
      int p = e.getKey();
      properties
          .set(PartitionState.epochKey(p), Long.toString(expected.get(p).epoch()))
          .set(PartitionState.committedKey(p), Long.toString(e.getValue()));
    }
    properties.commit();
    tx.commitTransaction();
  }

  private void markLanded(
      HandoverAnswer[] answers, List<Range> ranges, List<Integer> attempted, Snapshot landed) {
    List<String> missing = SnapshotFiles.missing(table.io(), landed);
    commits.incrementAndGet();
    measure();
    for (int i : attempted) {
      answers[i] =
          missing.isEmpty()
              ? new HandoverAnswer.Committed(ranges.get(i).through(), landed.snapshotId())
              : filesGone(landed, missing);
    }
  }

  private HandoverAnswer filesGone(Snapshot s, List<String> missing) {
    filesMissing.incrementAndGet();
    String problem =
        "snapshot "
            + s.snapshotId()
            + " committed the range, but its files are gone: "
            + missing
            + "; the table cannot be scanned or appended to until it is repaired";
    LOG.error(problem);
    return new HandoverAnswer.Failed(problem);
  }

  /**
   * Refuses to commit on table properties that a rollback of main left behind: the batch commit
   * that last wrote them is still in the table's metadata but no longer in main's history. A new
   * batch would otherwise record itself as their writer and hide it.
   *
   * @throws StateNotInHistoryException when main was rolled back across that batch commit
   */
  private void checkStateInHistory() {
    StateHistory.require(
        table.properties(), table.currentSnapshot(), table::snapshot, "no batch commit");
  }

  /** The newest coordinator epoch: from the ancestry, else the table properties. */
  static long coordinatorEpoch(Table table) {
    long recorded = CoordinatorClaim.newestRecordedEpoch(table);
    return recorded >= 0
        ? recorded
        : PropertyUtil.propertyAsLong(
            table.properties(),
            FloeTableKeys.COORDINATOR_EPOCH,
            FloeTableKeys.COORDINATOR_EPOCH_DEFAULT);
  }

  /** The newest snapshot in the current ancestry whose commit id is one of {@code ids}, or null. */
  private Snapshot snapshotWithCommitId(Set<String> ids) {
    Snapshot current = table.currentSnapshot();
    if (ids.isEmpty() || current == null) {
      return null;
    }
    for (Snapshot s : SnapshotUtil.ancestorsOf(current.snapshotId(), table::snapshot)) {
      if (ids.contains(s.summary().get(FloeTableKeys.COMMIT_ID))) {
        return s;
      }
    }
    return null;
  }

  /**
   * The snapshot that first recorded the partition committed at or beyond {@code through} (the
   * oldest of the newest run of such records, claims skipped), or null when it has expired. A batch
   * commit's record is in the table properties only, so the run stops at the second batch commit
   * that advanced the partition: the snapshot found then is one that holds the range, maybe not the
   * first.
   */
  private Snapshot snapshotCommitting(int partition, long through) {
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return null;
    }
    String key = PartitionState.committedKey(partition);
    Snapshot found = null;
    boolean newest = true;
    for (Snapshot s : SnapshotUtil.ancestorsOf(current.snapshotId(), table::snapshot)) {
      String recorded = s.summary().get(key);
      if (recorded == null && PartitionState.advancedInProperties(s, partition)) {
        if (!newest) {
          // an older batch record: what it committed is no longer written anywhere
          break;
        }
        // the newest record of the partition: the properties hold what it committed
        recorded = table.properties().get(key);
        if (recorded == null) {
          break;
        }
      }
      if (recorded == null) {
        continue;
      }
      if (FloeTableKeys.OPERATION_CLAIM.equals(s.summary().get(FloeTableKeys.OPERATION))) {
        // a claim carries the committed sequence on: the properties still hold the last commit's
        continue;
      }
      newest = false;
      if (Long.parseLong(recorded) < through) {
        break;
      }
      found = s;
    }
    return found;
  }

  private static long idOf(Snapshot s) {
    return s == null ? -1 : s.snapshotId();
  }

  /** Records the table's shape from its current metadata (as the last commit returned it). */
  private void measure() {
    try {
      TableMetadata m = ((BaseTable) table).operations().current();
      long now = System.nanoTime();
      long bytes = shape.metadataBytes();
      if (bytes < 0 || now - shapeMeasuredNanos >= METADATA_BYTES_SPACING_NANOS) {
        bytes = TableMetadataParser.toJson(m).getBytes(StandardCharsets.UTF_8).length;
        shapeMeasuredNanos = now;
      }
      shape = new TableShape(bytes, manifests(m.currentSnapshot()), m.snapshots().size());
    } catch (RuntimeException e) {
      // metrics only: never fail a landed commit over them
      LOG.debug("cannot measure the table's metadata", e);
    }
  }

  /** The snapshot's manifests, from its summary (created + kept), or -1 when it does not say. */
  private static long manifests(Snapshot s) {
    if (s == null) {
      return 0;
    }
    String created = s.summary().get(SnapshotSummary.CREATED_MANIFESTS_COUNT);
    String kept = s.summary().get(SnapshotSummary.KEPT_MANIFESTS_COUNT);
    if (created == null && kept == null) {
      return -1;
    }
    return (created == null ? 0 : Long.parseLong(created))
        + (kept == null ? 0 : Long.parseLong(kept));
  }

  /** The table's shape as of this committer's last landed commit. */
  public TableShape shape() {
    return shape;
  }

  /** Validator runs: every commit attempt, Iceberg's retries included. */
  public long attempts() {
    return attempts.get();
  }

  /** Batch commits that landed. */
  public long commits() {
    return commits.get();
  }

  /** Ranges found committed by a snapshot whose files are gone (each needs an operator). */
  public long filesMissing() {
    return filesMissing.get();
  }

  public Table table() {
    return table;
  }

  /**
   * The table's metadata as this committer last read or wrote it (call on the committing thread).
   */
  TableMetadata metadata() {
    return ops.current();
  }
}
