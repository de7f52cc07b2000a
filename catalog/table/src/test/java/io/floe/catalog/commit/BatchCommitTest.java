package io.floe.catalog.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.inmemory.InMemoryCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BatchCommitTest {
  private Catalog catalog;
  private final TableSettings settings = TableSettings.defaults();

  @BeforeEach
  void setUp() {
    InMemoryCatalog c = new InMemoryCatalog();
    c.initialize("test", Map.of());
    catalog = c;
    EventsTable.ensure(catalog, settings);
  }

  private Table table() {
    return catalog.loadTable(EventsTable.identifier(settings));
  }

  static DataFile file(Table t, long rows) {
    return DataFiles.builder(t.spec())
        .withPath("memory://files/" + UUID.randomUUID() + ".parquet")
        .withFormat(FileFormat.PARQUET)
        .withPartitionPath("event_time_hour=498730")
        .withFileSizeInBytes(1000)
        .withRecordCount(rows)
        .build();
  }

  private List<PartitionClaim> claim(int partitions) {
    List<PartitionClaim> claims = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      claims.add(new CommitProtocol(table(), p, "node-" + p).claim());
    }
    return claims;
  }

  private static BatchCommit.Range range(Table t, PartitionClaim c, long after, long through) {
    return new BatchCommit.Range(
        c.partitionId(),
        c.epoch(),
        after,
        through,
        List.of(file(t, through - after)),
        through - after);
  }

  private static long filesInScan(Table t) throws Exception {
    long n = 0;
    try (CloseableIterable<FileScanTask> tasks = t.newScan().planFiles()) {
      for (FileScanTask ignored : tasks) {
        n++;
      }
    }
    return n;
  }

  private static List<String> missingFiles(Table t) {
    Snapshot current = t.currentSnapshot();
    List<String> missing = new ArrayList<>();
    if (!exists(t, current.manifestListLocation())) {
      missing.add(current.manifestListLocation());
      return missing;
    }
    for (ManifestFile m : current.allManifests(t.io())) {
      if (!exists(t, m.path())) {
        missing.add(m.path());
      }
    }
    return missing;
  }

  private static boolean exists(Table t, String path) {
    try {
      return t.io().newInputFile(path).exists();
    } catch (NotFoundException e) {
      return false;
    }
  }

  @Test
  void manyPartitionsInOneCommitLandExactlyOnce() throws Exception {
    List<PartitionClaim> claims = claim(20);
    long coordinator = CoordinatorClaim.claim(table(), "10.0.0.1:7000", "node-0").epoch();
    assertThat(coordinator).isEqualTo(1);
    Table t = table();
    BatchCommit batch = new BatchCommit(t);
    List<BatchCommit.Range> ranges = new ArrayList<>();
    claims.forEach(c -> ranges.add(range(t, c, 0, 10 + c.partitionId())));

    List<HandoverAnswer> answers = batch.commit(coordinator, ranges);

    Snapshot s = table().currentSnapshot();
    assertThat(answers)
        .hasSize(20)
        .allSatisfy(
            a ->
                assertThat(a)
                    .isInstanceOfSatisfying(
                        HandoverAnswer.Committed.class,
                        c -> assertThat(c.snapshotId()).isEqualTo(s.snapshotId())));
    assertThat(s.summary())
        .containsEntry(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_FLUSH)
        .containsEntry(FloeTableKeys.COORDINATOR_EPOCH, "1")
        .containsEntry(FloeTableKeys.PARTITIONS, "20")
        .containsKey(FloeTableKeys.COMMIT_ID)
        .containsEntry(FloeTableKeys.ADVANCED_PARTITIONS, "0-19")
        .doesNotContainKey(FloeTableKeys.partitionCommittedSequence(7));
    assertThat(PartitionState.of(table(), 7)).isEqualTo(new PartitionState(1, 17));
    assertThat(table().properties())
        .containsEntry(FloeTableKeys.partitionCommittedSequence(7), "17")
        .containsEntry(FloeTableKeys.partitionEpoch(7), "1")
        .containsEntry(FloeTableKeys.partitionCommittedSequence(19), "29")
        .containsEntry(FloeTableKeys.COORDINATOR_EPOCH, "1");
    assertThat(filesInScan(table())).isEqualTo(20);
    assertThat(batch.commits()).isEqualTo(1);
    assertThat(batch.attempts()).isEqualTo(1);
    // a node's direct commit reads the same keys and continues where the batch left off
    CommitProtocol direct = new CommitProtocol(table(), 3, "node-3");
    assertThat(direct.commit(claims.get(3), 13, 20, List.of(file(t, 7)), Map.of())).isEqualTo(20);
  }

  @Test
  void aResentRangeIsAnsweredCommittedAndNotAppendedTwice() throws Exception {
    List<PartitionClaim> claims = claim(2);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    Table t = table();
    BatchCommit batch = new BatchCommit(t);
    BatchCommit.Range first = range(t, claims.get(0), 0, 5);
    List<HandoverAnswer> landed = batch.commit(coordinator, List.of(first));
    long snapshot = ((HandoverAnswer.Committed) landed.get(0)).snapshotId();

    // another coordinator (after a failover) gets the same bytes again, with a new range of p1
    long next = CoordinatorClaim.claim(table(), "b:1", "b").epoch();
    BatchCommit other = new BatchCommit(table());
    List<HandoverAnswer> answers =
        other.commit(next, List.of(first, range(t, claims.get(1), 0, 3)));

    assertThat(answers.get(0)).isEqualTo(new HandoverAnswer.Committed(5, snapshot));
    assertThat(answers.get(1)).isInstanceOf(HandoverAnswer.Committed.class);
    assertThat(filesInScan(table())).isEqualTo(2);
    // a re-send alone commits nothing
    long current = table().currentSnapshot().snapshotId();
    assertThat(other.commit(next, List.of(first)).get(0))
        .isEqualTo(new HandoverAnswer.Committed(5, snapshot));
    assertThat(table().currentSnapshot().snapshotId()).isEqualTo(current);
  }

  @Test
  void contiguousRangesOfOnePartitionAdvanceItTogether() throws Exception {
    PartitionClaim c = claim(1).get(0);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    Table t = table();
    List<HandoverAnswer> answers =
        new BatchCommit(t).commit(coordinator, List.of(range(t, c, 5, 9), range(t, c, 0, 5)));
    assertThat(answers).allSatisfy(a -> assertThat(a).isInstanceOf(HandoverAnswer.Committed.class));
    assertThat(table().properties())
        .containsEntry(FloeTableKeys.partitionCommittedSequence(0), "9");
    assertThat(table().currentSnapshot().summary()).containsEntry(FloeTableKeys.PARTITIONS, "1");
  }

  /** Operations that apply the next {@code failures} commits, then answer with {@code failure}. */
  private static final class AppliedThenFailed extends ForwardingTableOperations {
    final AtomicInteger failures = new AtomicInteger();
    final boolean unknown;

    AppliedThenFailed(TableOperations ops, boolean unknown) {
      super(ops);
      this.unknown = unknown;
    }

    @Override
    public void commit(TableMetadata base, TableMetadata metadata) {
      ops.commit(base, metadata);
      if (failures.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        if (unknown) {
          throw new CommitStateUnknownException(new RuntimeException("injected: answer lost"));
        }
        throw new CommitFailedException("injected: applied, then refused");
      }
    }
  }

  @Test
  void aLostAnswerIsRecognisedByTheCommitId() throws Exception {
    List<PartitionClaim> claims = claim(3);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    BaseTable loaded = (BaseTable) table();
    AppliedThenFailed lossy = new AppliedThenFailed(loaded.operations(), true);
    Table t = new BaseTable(lossy, loaded.name());
    BatchCommit batch = new BatchCommit(t);
    lossy.failures.set(1);

    List<HandoverAnswer> answers =
        batch.commit(coordinator, claims.stream().map(c -> range(t, c, 0, 4)).toList());

    long current = table().currentSnapshot().snapshotId();
    assertThat(answers).containsOnly(new HandoverAnswer.Committed(4, current));
    assertThat(filesInScan(table())).as("each range once").isEqualTo(3);
    assertThat(missingFiles(table())).isEmpty();
  }

  @Test
  void aCoordinatorClaimWhoseAnswerWasLostIsRecognised() {
    BaseTable loaded = (BaseTable) table();
    AppliedThenFailed lossy = new AppliedThenFailed(loaded.operations(), true);
    Table t = new BaseTable(lossy, loaded.name());
    lossy.failures.set(1);
    assertThat(CoordinatorClaim.claim(t, "me:1", "node-7"))
        .isEqualTo(new CoordinatorClaim.Coordinator(1, "me:1", "node-7"));
    lossy.failures.set(1);
    assertThat(CoordinatorClaim.claim(t, "me:1", "node-7").epoch()).isEqualTo(2);
    assertThat(table().properties()).containsEntry(FloeTableKeys.COORDINATOR_EPOCH, "2");
  }

  @Test
  void aCommitRefusedAfterItLandedKeepsItsFiles() throws Exception {
    List<PartitionClaim> claims = claim(2);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    BaseTable loaded = (BaseTable) table();
    AppliedThenFailed refusing = new AppliedThenFailed(loaded.operations(), false);
    Table t = new BaseTable(refusing, loaded.name());
    BatchCommit batch = new BatchCommit(t);
    for (int round = 0; round < 3; round++) {
      refusing.failures.set(1);
      long after = round * 10L;
      List<HandoverAnswer> answers =
          batch.commit(
              coordinator, claims.stream().map(c -> range(t, c, after, after + 10)).toList());
      assertThat(answers)
          .allSatisfy(a -> assertThat(a).isInstanceOf(HandoverAnswer.Committed.class));
      assertThat(missingFiles(table())).as("files of the current snapshot that are gone").isEmpty();
    }
    assertThat(filesInScan(table())).isEqualTo(6);
    assertThat(batch.filesMissing()).isZero();
  }

  @Test
  void aStaleCoordinatorCannotLandAfterANewerClaim() throws Exception {
    List<PartitionClaim> claims = claim(2);
    long stale = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    Table zombieHandle = table();
    BatchCommit zombie = new BatchCommit(zombieHandle);
    zombie.commit(stale, List.of(range(zombieHandle, claims.get(0), 0, 1)));
    // a newer coordinator claims through its own handle; the zombie's handle has not seen it, so
    // only the validator on Iceberg's retry can stop it
    CoordinatorClaim.Coordinator newer = CoordinatorClaim.claim(table(), "b:1", "b");
    assertThat(newer.epoch()).isEqualTo(stale + 1);
    long before = table().currentSnapshot().snapshotId();

    assertThatThrownBy(
            () ->
                zombie.commit(
                    stale,
                    List.of(
                        range(zombieHandle, claims.get(0), 1, 2),
                        range(zombieHandle, claims.get(1), 0, 2))))
        .isInstanceOfSatisfying(
            CoordinatorFencedException.class, e -> assertThat(e.tableEpoch()).isEqualTo(2));
    assertThat(table().currentSnapshot().snapshotId()).isEqualTo(before);
    assertThat(CoordinatorClaim.current(table()))
        .isEqualTo(new CoordinatorClaim.Coordinator(2, "b:1", "b"));
    assertThat(filesInScan(table())).isEqualTo(1);
  }

  @Test
  void aPartitionFencedByANewerClaimIsAnsweredFencedWhileTheOthersCommit() throws Exception {
    List<PartitionClaim> claims = claim(3);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    Table handle = table();
    BatchCommit batch = new BatchCommit(handle);
    batch.commit(coordinator, claims.stream().map(c -> range(handle, c, 0, 1)).toList());
    // partition 1's node restarts and claims it again; the coordinator's handle is stale
    PartitionClaim reclaimed = new CommitProtocol(table(), 1, "node-1b").claim();

    List<HandoverAnswer> answers =
        batch.commit(coordinator, claims.stream().map(c -> range(handle, c, 1, 3)).toList());

    long current = table().currentSnapshot().snapshotId();
    assertThat(answers)
        .containsExactly(
            new HandoverAnswer.Committed(3, current),
            new HandoverAnswer.Fenced(reclaimed.epoch()),
            new HandoverAnswer.Committed(3, current));
    // planned on the committer's own last commit: refused by the catalog (the table moved), by
    // the validator on Iceberg's retry, then planned again and landed
    assertThat(batch.attempts()).as("refused, then landed").isEqualTo(4);
    assertThat(table().properties())
        .containsEntry(FloeTableKeys.partitionCommittedSequence(1), "1")
        .containsEntry(FloeTableKeys.partitionEpoch(1), "2")
        .containsEntry(FloeTableKeys.partitionCommittedSequence(2), "3");
    // the new holder goes on from where the table says
    BatchCommit.Range next = range(handle, reclaimed, 1, 4);
    assertThat(batch.commit(coordinator, List.of(next)).get(0))
        .isInstanceOf(HandoverAnswer.Committed.class);
  }

  @Test
  void aMismatchedRangeDoesNotBlockTheOthers() throws Exception {
    List<PartitionClaim> claims = claim(3);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    Table t = table();
    BatchCommit batch = new BatchCommit(t);
    batch.commit(coordinator, List.of(range(t, claims.get(1), 0, 5)));

    List<HandoverAnswer> answers =
        batch.commit(
            coordinator,
            List.of(
                range(t, claims.get(0), 0, 2),
                range(t, claims.get(1), 7, 9), // a gap: the table has 5
                range(t, claims.get(2), 0, 2)));

    assertThat(answers.get(0)).isInstanceOf(HandoverAnswer.Committed.class);
    assertThat(answers.get(1)).isEqualTo(new HandoverAnswer.Mismatch(5));
    assertThat(answers.get(2)).isInstanceOf(HandoverAnswer.Committed.class);
    assertThat(table().currentSnapshot().summary()).containsEntry(FloeTableKeys.PARTITIONS, "2");
  }

  @Test
  void manifestsStayBoundedOverManyCommits() {
    List<PartitionClaim> claims = claim(4);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    // Iceberg merges once this many manifests gather (100 by default; fewer keeps the test short)
    table().updateProperties().set(TableProperties.MANIFEST_MIN_MERGE_COUNT, "5").commit();
    Table t = table();
    BatchCommit batch = new BatchCommit(t);
    long[] committed = new long[claims.size()];
    int most = 0;
    for (int i = 0; i < 60; i++) {
      PartitionClaim c = claims.get(i % claims.size());
      int p = c.partitionId();
      assertThat(batch.commit(coordinator, List.of(range(t, c, committed[p], committed[p] + 2))))
          .singleElement()
          .isInstanceOf(HandoverAnswer.Committed.class);
      committed[p] += 2;
      most = Math.max(most, t.currentSnapshot().dataManifests(t.io()).size());
    }
    assertThat(most).as("data manifests of any snapshot, over 60 commits").isLessThanOrEqualTo(6);
    assertThat(table().currentSnapshot().summary()).containsEntry("total-data-files", "60");
  }

  @Test
  void theTableShapeComesFromTheMetadataTheCommitReturned() {
    List<PartitionClaim> claims = claim(3);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    Table t = table();
    BatchCommit batch = new BatchCommit(t);
    assertThat(batch.shape()).isEqualTo(new BatchCommit.TableShape(-1, -1, -1));
    for (PartitionClaim c : claims) {
      batch.commit(coordinator, List.of(range(t, c, 0, 2)));
    }

    Table now = table();
    TableMetadata metadata = ((BaseTable) now).operations().current();
    BatchCommit.TableShape shape = batch.shape();
    assertThat(shape.manifests()).isEqualTo(now.currentSnapshot().allManifests(now.io()).size());
    assertThat(shape.snapshots()).isEqualTo(metadata.snapshots().size());
    // the JSON size is measured at the first commit, then at most every 30 s
    assertThat(shape.metadataBytes())
        .isPositive()
        .isLessThan(now.io().newInputFile(metadata.metadataFileLocation()).getLength());
  }

  @Test
  void aBatchOfAThousandPartitionsKeepsItsSnapshotSmall() {
    int partitions = 1000;
    // a thousand claimed partitions, set the way the properties record them after expiry
    UpdateProperties claimed = table().updateProperties();
    for (int p = 0; p < partitions; p++) {
      claimed.set(FloeTableKeys.partitionEpoch(p), "1");
    }
    claimed.commit();
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    Table t = table();
    List<BatchCommit.Range> ranges = new ArrayList<>();
    Random random = new Random(7);
    for (int p = 0; p < partitions; p++) {
      // about two in three partitions advance in one interval, scattered
      if (random.nextInt(3) > 0) {
        ranges.add(new BatchCommit.Range(p, 1, 0, 5 + p, List.of(file(t, 5 + p)), 5 + p));
      }
    }

    List<HandoverAnswer> answers = new BatchCommit(t).commit(coordinator, ranges);

    assertThat(answers).allSatisfy(a -> assertThat(a).isInstanceOf(HandoverAnswer.Committed.class));
    Table now = table();
    int summaryBytes = 0;
    for (Map.Entry<String, String> e : now.currentSnapshot().summary().entrySet()) {
      summaryBytes += e.getKey().length() + e.getValue().length() + 6;
    }
    // two keys per partition made it ~60 KB; the metadata budget is 2 MB for 1,000 snapshots
    assertThat(summaryBytes)
        .as("summary bytes of a %d-partition batch", ranges.size())
        .isLessThan(1024);
    for (BatchCommit.Range r : ranges) {
      assertThat(PartitionState.of(now, r.partition()))
          .isEqualTo(new PartitionState(1, r.through()));
    }
    int idle = 0;
    for (BatchCommit.Range r : ranges) {
      if (r.partition() != idle) {
        break;
      }
      idle++;
    }
    assertThat(PartitionState.of(now, idle)).isEqualTo(new PartitionState(1, 0));
  }

  @Test
  void aRollbackOfMainAcrossABatchStopsCommitsUntilThePropertiesAreRestored() throws Exception {
    PartitionClaim c = claim(1).get(0);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    new BatchCommit(table()).commit(coordinator, List.of(range(table(), c, 0, 5)));
    long good = table().currentSnapshot().snapshotId();
    BatchCommit.Range second = range(table(), c, 5, 10);
    new BatchCommit(table()).commit(coordinator, List.of(second));
    Snapshot secondBatch = table().currentSnapshot();
    assertThat(table().properties())
        .containsEntry(
            FloeTableKeys.ADVANCED_BY,
            secondBatch.snapshotId() + ":" + secondBatch.sequenceNumber());

    // an admin rolls main back to before the second batch: the properties still say 10
    table().manageSnapshots().rollbackTo(good).commit();

    assertThatThrownBy(() -> PartitionState.of(table(), 0))
        .isInstanceOf(StateNotInHistoryException.class);
    assertThatThrownBy(() -> new BatchCommit(table()).commit(coordinator, List.of(second)))
        .isInstanceOf(StateNotInHistoryException.class);
    assertThatThrownBy(
            () ->
                new CommitProtocol(table(), 0, "node-0")
                    .commit(c, 5, 10, List.of(file(table(), 5)), Map.of()))
        .isInstanceOf(StateNotInHistoryException.class);
    assertThat(filesInScan(table())).as("nothing committed on the stale properties").isEqualTo(1);

    // the operator restores them as they stood at the snapshot main is back on
    table()
        .updateProperties()
        .set(FloeTableKeys.partitionCommittedSequence(0), "5")
        .set(
            FloeTableKeys.ADVANCED_BY,
            StateHistory.value(good, table().snapshot(good).sequenceNumber()))
        .commit();
    assertThat(PartitionState.of(table(), 0)).isEqualTo(new PartitionState(c.epoch(), 5));
    assertThat(new BatchCommit(table()).commit(coordinator, List.of(second)))
        .singleElement()
        .isInstanceOf(HandoverAnswer.Committed.class);
    assertThat(filesInScan(table())).as("(0,5] and (5,10], once each").isEqualTo(2);
  }

  @Test
  void aRolledAwayBatchThatExpiredStillStopsBatchesOfOtherPartitions() {
    List<PartitionClaim> claims = claim(2);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    new BatchCommit(table()).commit(coordinator, List.of(range(table(), claims.get(0), 0, 5)));
    long good = table().currentSnapshot().snapshotId();
    new BatchCommit(table()).commit(coordinator, List.of(range(table(), claims.get(0), 5, 10)));
    long rolledAway = table().currentSnapshot().snapshotId();
    table().manageSnapshots().rollbackTo(good).commit();
    // maintenance (or the operator) expires the snapshot nothing references any more
    table().expireSnapshots().expireSnapshotId(rolledAway).commit();

    assertThatThrownBy(() -> PartitionState.of(table(), 0))
        .isInstanceOf(StateNotInHistoryException.class);
    // a batch of another partition would record itself as the properties' writer and hide it
    assertThatThrownBy(
            () ->
                new BatchCommit(table())
                    .commit(coordinator, List.of(range(table(), claims.get(1), 0, 3))))
        .isInstanceOf(StateNotInHistoryException.class);
    assertThatThrownBy(() -> PartitionState.of(table(), 0))
        .isInstanceOf(StateNotInHistoryException.class);
  }

  @Test
  void aRollbackAcrossTheFirstBatchOfAPartitionWhoseRecordsExpiredIsNoticed() {
    List<PartitionClaim> claims = claim(1);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    long kept = table().currentSnapshot().snapshotId();
    List<Long> older = new ArrayList<>();
    table().snapshots().forEach(s -> older.add(s.snapshotId()));
    for (long id : older) {
      if (id != kept) {
        table().expireSnapshots().expireSnapshotId(id).commit();
      }
    }
    new BatchCommit(table()).commit(coordinator, List.of(range(table(), claims.get(0), 0, 5)));
    table().manageSnapshots().rollbackTo(kept).commit();

    // no summary records partition 0 any more: the properties, which say 5, are all there is
    assertThatThrownBy(() -> PartitionState.of(table(), 0))
        .isInstanceOf(StateNotInHistoryException.class);
  }

  @Test
  void aCommitterOnItsOwnViewDoesNotCommitAcrossARollback() {
    List<PartitionClaim> claims = claim(2);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    BatchCommit committer = new BatchCommit(table());
    committer.commit(coordinator, List.of(range(table(), claims.get(0), 0, 5)));
    long good = table().currentSnapshot().snapshotId();
    committer.commit(coordinator, List.of(range(table(), claims.get(0), 5, 10)));
    // an admin, elsewhere, rolls main back across the second batch; the committer's view is its
    // own last commit, and Iceberg's retry inside the transaction sees the rolled-back main
    table().manageSnapshots().rollbackTo(good).commit();
    long before = table().currentSnapshot().snapshotId();

    assertThatThrownBy(
            () -> committer.commit(coordinator, List.of(range(table(), claims.get(1), 0, 3))))
        .isInstanceOf(StateNotInHistoryException.class);
    assertThat(table().currentSnapshot().snapshotId()).isEqualTo(before);
    assertThatThrownBy(() -> PartitionState.of(table(), 0))
        .isInstanceOf(StateNotInHistoryException.class);
  }

  @Test
  void aTableSetToKeyedSummariesGetsThemForTheReleaseBefore() {
    List<PartitionClaim> claims = claim(2);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    table()
        .updateProperties()
        .set(FloeTableKeys.BATCH_SUMMARY, FloeTableKeys.BATCH_SUMMARY_KEYED)
        .commit();
    Table t = table();
    new BatchCommit(t).commit(coordinator, claims.stream().map(c -> range(t, c, 0, 3)).toList());

    assertThat(table().currentSnapshot().summary())
        .containsEntry(FloeTableKeys.partitionCommittedSequence(1), "3")
        .containsEntry(FloeTableKeys.partitionEpoch(1), "1")
        .doesNotContainKey(FloeTableKeys.ADVANCED_PARTITIONS);
    assertThat(table().properties()).doesNotContainKey(FloeTableKeys.ADVANCED_BY);
    assertThat(PartitionState.of(table(), 1)).isEqualTo(new PartitionState(1, 3));
  }

  @Test
  void aDirectCommitPlannedBeforeABatchOfItsRangeLandsItOnce() throws Exception {
    PartitionClaim c = claim(1).get(0);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    BaseTable loaded = (BaseTable) table();
    CommitsFirst racing = new CommitsFirst(loaded.operations());
    Table direct = new BaseTable(racing, loaded.name());
    BatchCommit.Range handed = range(table(), c, 0, 5);
    // the node handed (0, 5] over, lost the answer and commits it itself, while the committer
    // lands the hand-over between the node's read of the table and its commit
    racing.interloper =
        () ->
            assertThat(new BatchCommit(table()).commit(coordinator, List.of(handed)))
                .singleElement()
                .isInstanceOf(HandoverAnswer.Committed.class);

    long through =
        new CommitProtocol(direct, 0, "node-0").commit(c, 0, 5, List.of(file(direct, 5)), Map.of());

    assertThat(through).isEqualTo(5);
    assertThat(filesInScan(table())).as("the range's files once").isEqualTo(1);
    assertThat(PartitionState.of(table(), 0)).isEqualTo(new PartitionState(c.epoch(), 5));
  }

  /** Operations that count the table loads (refreshes) that reach the catalog. */
  private static final class CountsLoads extends ForwardingTableOperations {
    final AtomicInteger loads = new AtomicInteger();

    CountsLoads(TableOperations ops) {
      super(ops);
    }

    @Override
    public TableMetadata refresh() {
      loads.incrementAndGet();
      return ops.refresh();
    }
  }

  @Test
  void aCommitterCommittingOnItsOwnLastCommitDoesNotLoadTheTable() throws Exception {
    List<PartitionClaim> claims = claim(2);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    BaseTable loaded = (BaseTable) table();
    CountsLoads counting = new CountsLoads(loaded.operations());
    Table t = new BaseTable(counting, loaded.name());
    BatchCommit batch = new BatchCommit(t);
    batch.commit(coordinator, List.of(range(t, claims.get(0), 0, 2)));
    counting.loads.set(0);

    for (int i = 1; i <= 5; i++) {
      assertThat(batch.commit(coordinator, List.of(range(t, claims.get(0), 2L * i, 2L * i + 2))))
          .singleElement()
          .isInstanceOf(HandoverAnswer.Committed.class);
    }
    // refreshes asked of the operations; a metastore catalog (JDBC, in-memory) still reloads in
    // current() after its own commit, a REST catalog takes the metadata its commit returned
    assertThat(counting.loads).as("table loads for 5 commits on the committer's own").hasValue(0);

    // the partition's node restarts and claims it again, then hands over under its new epoch: the
    // committer's view (its own last commit) has not seen the claim, and must not answer fenced
    PartitionClaim reclaimed = new CommitProtocol(table(), 1, "node-1b").claim();
    assertThat(batch.commit(coordinator, List.of(range(t, reclaimed, 0, 3))))
        .singleElement()
        .isInstanceOf(HandoverAnswer.Committed.class);
    assertThat(counting.loads.get()).isPositive();
    assertThat(PartitionState.of(table(), 0)).isEqualTo(new PartitionState(1, 12));
    assertThat(PartitionState.of(table(), 1)).isEqualTo(new PartitionState(2, 3));
    assertThat(filesInScan(table())).isEqualTo(7);
  }

  @Test
  void twoBatchesRacingOneRangeLandItOnce() throws Exception {
    PartitionClaim c = claim(1).get(0);
    long coordinator = CoordinatorClaim.claim(table(), "a:1", "a").epoch();
    BaseTable loaded = (BaseTable) table();
    CommitsFirst racing = new CommitsFirst(loaded.operations());
    Table t = new BaseTable(racing, loaded.name());
    BatchCommit.Range handed = range(t, c, 0, 5);
    racing.interloper = () -> new BatchCommit(table()).commit(coordinator, List.of(handed));

    List<HandoverAnswer> answers = new BatchCommit(t).commit(coordinator, List.of(handed));

    assertThat(answers).singleElement().isInstanceOf(HandoverAnswer.Committed.class);
    assertThat(filesInScan(table())).as("the range's files once").isEqualTo(1);
  }

  /** Operations that land another process's coordinator claim just before the next commit. */
  private final class ClaimFirst extends ForwardingTableOperations {
    boolean armed;

    ClaimFirst(TableOperations ops) {
      super(ops);
    }

    @Override
    public void commit(TableMetadata base, TableMetadata metadata) {
      if (armed) {
        armed = false;
        CoordinatorClaim.claim(table(), "rival:1", "rival");
      }
      ops.commit(base, metadata);
    }
  }

  @Test
  void eachCoordinatorEpochHasOneWinner() {
    BaseTable loaded = (BaseTable) table();
    ClaimFirst racing = new ClaimFirst(loaded.operations());
    Table t = new BaseTable(racing, loaded.name());
    racing.armed = true;

    assertThatThrownBy(() -> CoordinatorClaim.claim(t, "me:1", "me"))
        .isInstanceOf(ClaimRacedException.class)
        .hasMessageContaining("lost to another claim");
    assertThat(CoordinatorClaim.current(table()))
        .isEqualTo(new CoordinatorClaim.Coordinator(1, "rival:1", "rival"));
    // the next claim wins epoch 2; the properties carry it too (they survive expiry)
    assertThat(CoordinatorClaim.claim(t, "me:1", "me").epoch()).isEqualTo(2);
    Table now = table();
    now.expireSnapshots().expireOlderThan(System.currentTimeMillis() + 1).retainLast(1).commit();
    List<PartitionClaim> claims = claim(1);
    Table after = table();
    assertThat(after.currentSnapshot().summary())
        .doesNotContainKey(FloeTableKeys.COORDINATOR_EPOCH);
    assertThat(CoordinatorClaim.current(after))
        .isEqualTo(new CoordinatorClaim.Coordinator(2, "me:1", "me"));
    assertThat(new BatchCommit(after).commit(2, List.of(range(after, claims.get(0), 0, 1))).get(0))
        .isInstanceOf(HandoverAnswer.Committed.class);
    assertThatThrownBy(
            () -> new BatchCommit(table()).commit(1, List.of(range(after, claims.get(0), 1, 2))))
        .isInstanceOf(CoordinatorFencedException.class);
  }
}
