package io.floe.catalog.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import java.util.List;
import java.util.Map;
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
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.inmemory.InMemoryCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class CommitProtocolTest {
  private Catalog catalog;
  private TableSettings settings = TableSettings.defaults();

  @BeforeEach
  void setUp() {
    InMemoryCatalog c = new InMemoryCatalog();
    c.initialize("test", Map.of());
    catalog = c;
  }

  private Table table() {
    return catalog.loadTable(EventsTable.identifier(settings));
  }

  private static DataFile file(Table t, long rows) {
    return DataFiles.builder(t.spec())
        .withPath("memory://files/" + UUID.randomUUID() + ".parquet")
        .withFormat(FileFormat.PARQUET)
        .withPartitionPath("event_time_hour=498730")
        .withFileSizeInBytes(1000)
        .withRecordCount(rows)
        .build();
  }

  @Test
  void createsTheTableIdempotentlyWithTheDesignedLayout() {
    Table t = EventsTable.ensure(catalog, settings);
    Table again = EventsTable.ensure(catalog, settings);
    assertThat(again.uuid()).isEqualTo(t.uuid());
    assertThat(t.schema().asStruct()).isEqualTo(EventsTable.SCHEMA.asStruct());
    assertThat(t.spec().fields())
        .singleElement()
        .satisfies(f -> assertThat(f.transform().toString()).isEqualTo("hour"));
    assertThat(t.sortOrder().fields()).hasSize(2);
    assertThat(t.properties())
        .containsEntry("write.parquet.compression-codec", "zstd")
        .containsEntry("write.target-file-size-bytes", Long.toString(128L << 20));
  }

  @Test
  void commitsAdvanceTheCommittedSequenceInTheSameSnapshot() {
    EventsTable.ensure(catalog, settings);
    CommitProtocol p = new CommitProtocol(table(), 3, "node-a");
    PartitionClaim claim = p.claim();
    assertThat(claim).isEqualTo(new PartitionClaim(3, 1, 0));
    assertThat(p.commit(claim, 0, 100, List.of(file(table(), 100)), Map.of())).isEqualTo(100);
    assertThat(p.commit(claim, 100, 250, List.of(file(table(), 150)), Map.of())).isEqualTo(250);
    Table t = table();
    assertThat(t.currentSnapshot().summary())
        .containsEntry(FloeTableKeys.partitionCommittedSequence(3), "250")
        .containsEntry(FloeTableKeys.SEQUENCE_RANGE, "101-250")
        .containsEntry("added-records", "150");
    assertThat(t.properties()).containsEntry(FloeTableKeys.partitionCommittedSequence(3), "250");
    assertThat(new CommitProtocol(table(), 3, "x").committedSequence()).isEqualTo(250);
    // the same claim retrying the range it committed (the first answer was lost) is told it is
    // committed, and nothing is appended twice
    long snapshot = table().currentSnapshot().snapshotId();
    assertThat(p.commit(claim, 100, 250, List.of(file(table(), 150)), Map.of())).isEqualTo(250);
    assertThat(table().currentSnapshot().snapshotId()).isEqualTo(snapshot);
    assertThat(p.committedUnder(claim)).isEqualTo(250);
    // a range starting below the committed sequence, under our epoch: an earlier attempt of ours
    // landed (its answer lost); nothing is appended, and the caller continues from there
    assertThatThrownBy(() -> p.commit(claim, 100, 300, List.of(file(table(), 200)), Map.of()))
        .isInstanceOfSatisfying(
            EarlierCommitLandedException.class,
            e -> assertThat(e.committedSequence()).isEqualTo(250));
    assertThat(table().currentSnapshot().snapshotId()).isEqualTo(snapshot);
    assertThat(p.commit(claim, 250, 300, List.of(file(table(), 50)), Map.of())).isEqualTo(300);
  }

  @Test
  void aClaimRecordsWhereTheEpochItEndsStoppedAndKeepsABoundedHistory() {
    EventsTable.ensure(catalog, settings);
    CommitProtocol a = new CommitProtocol(table(), 6, "a", "buffer-a");
    PartitionClaim claimA = a.claim();
    a.commit(claimA, 0, 40, List.of(file(table(), 40)), Map.of());
    CommitProtocol b = new CommitProtocol(table(), 6, "b", "buffer-b");
    PartitionClaim claimB = b.claim();
    b.commit(claimB, 40, 45, List.of(file(table(), 5)), Map.of());
    assertThat(table().properties())
        .containsEntry(FloeTableKeys.partitionEpochCommittedSequence(6, 1), "40")
        .containsEntry(FloeTableKeys.partitionHolder(6), "buffer-b");

    // the snapshots of epoch 1 expire: the properties still tell where it stopped
    Table t = table();
    t.expireSnapshots().expireOlderThan(System.currentTimeMillis() + 1).retainLast(1).commit();
    CommitProtocol reader = new CommitProtocol(table(), 6, "reader");
    assertThat(reader.currentEpoch()).isEqualTo(2);
    assertThat(reader.finalCommittedOf(1)).isEqualTo(40);
    assertThat(reader.epochClaimedBy("buffer-b")).isEqualTo(2);
    assertThat(reader.epochClaimedBy("buffer-a")).isEqualTo(-1);

    for (int i = 0; i < 2 * CommitProtocol.EPOCH_HISTORY; i++) {
      new CommitProtocol(table(), 6, "c").claim();
    }
    long epoch = reader.currentEpoch();
    assertThat(table().properties().keySet())
        .filteredOn(k -> FloeTableKeys.epochOfCommittedSequenceKey(6, k) >= 0)
        .hasSize(CommitProtocol.EPOCH_HISTORY)
        .contains(FloeTableKeys.partitionEpochCommittedSequence(6, epoch - 1));
    assertThat(reader.finalCommittedOf(epoch - 1)).isEqualTo(45);
    assertThat(reader.finalCommittedOf(1)).as("beyond the history, once expired").isEqualTo(-1);
  }

  @Test
  void aLaterClaimFencesTheEarlierHolder() {
    EventsTable.ensure(catalog, settings);
    CommitProtocol a = new CommitProtocol(table(), 1, "a");
    PartitionClaim claimA = a.claim();
    a.commit(claimA, 0, 10, List.of(file(table(), 10)), Map.of());
    CommitProtocol b = new CommitProtocol(table(), 1, "b");
    PartitionClaim claimB = b.claim();
    assertThat(claimB.epoch()).isEqualTo(2);
    assertThat(claimB.committedSequence()).isEqualTo(10);
    assertThatThrownBy(() -> a.commit(claimA, 10, 20, List.of(file(table(), 10)), Map.of()))
        .isInstanceOf(FencedException.class)
        .hasMessageContaining("claimed by another process");
    assertThat(b.commit(claimB, 10, 30, List.of(file(table(), 20)), Map.of())).isEqualTo(30);
  }

  @Test
  void aStaleTableHandleIsFencedByTheValidatorOnRetry() {
    EventsTable.ensure(catalog, settings);
    Table handleA = table();
    CommitProtocol a = new CommitProtocol(handleA, 1, "a");
    PartitionClaim claimA = a.claim();
    // B claims through its own handle; A's handle has not seen it. A's commit refreshes, but the
    // validator must also hold when Iceberg retries after a conflict: commit B first, then A.
    CommitProtocol b = new CommitProtocol(table(), 1, "b");
    b.claim();
    assertThatThrownBy(() -> a.commit(claimA, 0, 5, List.of(file(handleA, 5)), Map.of()))
        .isInstanceOf(FencedException.class);
    assertThat(table().currentSnapshot().summary())
        .containsEntry(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_CLAIM);
  }

  @Test
  void partitionsCommitIndependently() {
    EventsTable.ensure(catalog, settings);
    CommitProtocol p1 = new CommitProtocol(table(), 1, "a");
    CommitProtocol p2 = new CommitProtocol(table(), 2, "b");
    PartitionClaim c1 = p1.claim();
    PartitionClaim c2 = p2.claim();
    p1.commit(c1, 0, 5, List.of(file(table(), 5)), Map.of());
    p2.commit(c2, 0, 7, List.of(file(table(), 7)), Map.of());
    p1.commit(c1, 5, 9, List.of(file(table(), 4)), Map.of());
    assertThat(p1.committedSequence()).isEqualTo(9);
    assertThat(p2.committedSequence()).isEqualTo(7);
  }

  /**
   * A commit whose planning snapshot is expired by table maintenance while Iceberg retries it (the
   * catalog refused the first attempt: another partition committed) is planned again and lands: it
   * was answered as fenced, and the node stopped accepting writes for good (seen in ClusterTest,
   * where maintenance keeps three snapshots and three nodes commit every second).
   */
  @Test
  void aCommitWhosePlanningSnapshotExpiredWhileRetryingLandsInsteadOfBeingFenced()
      throws Exception {
    EventsTable.ensure(catalog, settings);
    BaseTable loaded = (BaseTable) table();
    CommitsFirst hooked = new CommitsFirst(loaded.operations());
    Table t = new BaseTable(hooked, loaded.name());
    CommitProtocol a = new CommitProtocol(t, 1, "a");
    PartitionClaim claimA = a.claim();
    CommitProtocol b = new CommitProtocol(table(), 2, "b");
    PartitionClaim claimB = b.claim();
    long planned = table().currentSnapshot().snapshotId();
    hooked.interloper =
        () -> {
          // another partition commits, then maintenance keeps only the newest snapshot
          b.commit(claimB, 0, 3, List.of(file(table(), 3)), Map.of());
          table()
              .expireSnapshots()
              .expireOlderThan(System.currentTimeMillis() + 1)
              .retainLast(1)
              .cleanExpiredFiles(false)
              .commit();
          assertThat(table().snapshot(planned)).as("the planning snapshot expired").isNull();
        };

    assertThat(a.commit(claimA, 0, 5, List.of(file(t, 5)), Map.of())).isEqualTo(5);
    assertThat(a.committedSequence()).isEqualTo(5);
    assertThat(filesInScan(table())).as("each range appended once").isEqualTo(2);
    assertThat(a.commit(claimA, 5, 9, List.of(file(t, 4)), Map.of())).isEqualTo(9);
  }

  /** A catalog that applies the next {@code refusals} commits, then answers that they failed. */
  private static final class AppliedThenRefused extends ForwardingTableOperations {
    final AtomicInteger refusals = new AtomicInteger();

    AppliedThenRefused(TableOperations ops) {
      super(ops);
    }

    @Override
    public void commit(TableMetadata base, TableMetadata metadata) {
      ops.commit(base, metadata);
      if (refusals.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throw new CommitFailedException("injected: applied, then refused");
      }
    }
  }

  /** The current snapshot's manifest list and manifests that do not exist. */
  private static List<String> missingFiles(Table t) {
    Snapshot current = t.currentSnapshot();
    if (!exists(t, current.manifestListLocation())) {
      return List.of(current.manifestListLocation());
    }
    return current.allManifests(t.io()).stream()
        .map(ManifestFile::path)
        .filter(path -> !exists(t, path))
        .toList();
  }

  private static boolean exists(Table t, String path) {
    try {
      return t.io().newInputFile(path).exists();
    } catch (NotFoundException e) {
      return false;
    }
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

  @Test
  void aCommitRefusedAfterItWasAppliedLandsOnceWithItsFiles() throws Exception {
    EventsTable.ensure(catalog, settings);
    BaseTable loaded = (BaseTable) table();
    AppliedThenRefused refusing = new AppliedThenRefused(loaded.operations());
    Table t = new BaseTable(refusing, loaded.name());
    CommitProtocol p = new CommitProtocol(t, 4, "node-a");

    refusing.refusals.set(1);
    PartitionClaim claim = p.claim();
    assertThat(claim.epoch()).as("one claim, not a second on top of the first").isEqualTo(1);
    assertThat(missingFiles(table())).isEmpty();

    assertThat(p.commit(claim, 0, 100, List.of(file(t, 100)), Map.of())).isEqualTo(100);
    refusing.refusals.set(1);
    assertThat(p.commit(claim, 100, 250, List.of(file(t, 150)), Map.of())).isEqualTo(250);
    assertThat(p.lastSnapshotId()).isEqualTo(table().currentSnapshot().snapshotId());
    assertThat(missingFiles(table())).as("files of the current snapshot that are gone").isEmpty();
    assertThat(filesInScan(table())).as("each range appended once").isEqualTo(2);

    // the table goes on taking commits
    assertThat(p.commit(claim, 250, 300, List.of(file(t, 50)), Map.of())).isEqualTo(300);
    assertThat(filesInScan(table())).isEqualTo(3);
    assertThat(p.filesMissing()).isZero();
  }

  @Test
  void aRangeFoundCommittedWithItsManifestListDeletedIsNotReportedCommitted() {
    EventsTable.ensure(catalog, settings);
    CommitProtocol p = new CommitProtocol(table(), 5, "node-a");
    PartitionClaim claim = p.claim();
    p.commit(claim, 0, 100, List.of(file(table(), 100)), Map.of());
    // what an older Iceberg clean-up after a refused, applied commit leaves behind
    table().io().deleteFile(table().currentSnapshot().manifestListLocation());

    assertThatThrownBy(() -> p.commit(claim, 0, 100, List.of(file(table(), 100)), Map.of()))
        .isInstanceOf(CommitFilesMissingException.class)
        .hasMessageContaining("snap-");
    assertThat(p.filesMissing()).isEqualTo(1);
  }
}
