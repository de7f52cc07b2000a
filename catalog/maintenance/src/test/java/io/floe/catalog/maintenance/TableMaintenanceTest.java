package io.floe.catalog.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.ForwardingTableOperations;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.floe.common.config.Settings;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.SQLNonTransientConnectionException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericFileWriterFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.io.RollingDataWriter;
import org.apache.iceberg.jdbc.UncheckedSQLException;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.util.SnapshotUtil;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Table maintenance against a real table: the JDBC catalog on SQLite, Parquet on the local
 * S3-compatible server.
 */
class TableMaintenanceTest {
  @TempDir Path dir;
  private LocalS3 s3;
  private Catalog catalog;
  private final TableSettings settings = TableSettings.defaults();
  private final Instant now = Instant.now();

  /** An hour that closed more than compact-after (2 h) ago, and the current one. */
  private final OffsetDateTime closedHour =
      now.minus(5, ChronoUnit.HOURS).truncatedTo(ChronoUnit.HOURS).atOffset(ZoneOffset.UTC);

  private final OffsetDateTime openHour =
      now.truncatedTo(ChronoUnit.HOURS).atOffset(ZoneOffset.UTC);
  private final Map<Integer, long[]> sequences = new HashMap<>();
  private final Map<Integer, CommitProtocol> protocols = new HashMap<>();
  private final Map<Integer, PartitionClaim> claims = new HashMap<>();

  @BeforeEach
  void start() throws Exception {
    s3 = LocalS3.start(dir.resolve("s3"), 0, "floe");
    Map<String, String> props = new HashMap<>(s3.fileIoProperties());
    props.put("type", "jdbc");
    props.put("uri", "jdbc:sqlite:" + dir.resolve("catalog.db"));
    props.put("clients", "1");
    props.put("warehouse", "s3://floe/warehouse");
    catalog = CatalogConnector.open("test", props);
    EventsTable.ensure(catalog, settings);
  }

  @AfterEach
  void stop() throws Exception {
    if (catalog instanceof AutoCloseable c) {
      c.close();
    }
    s3.close();
  }

  private Table table() {
    return catalog.loadTable(EventsTable.identifier(settings));
  }

  /**
   * A node's flush: one file of {@code count} events of partition {@code p} at {@code hour},
   * committed.
   */
  private DataFile flush(int p, OffsetDateTime hour, int count) throws Exception {
    Table t = table();
    CommitProtocol protocol =
        protocols.computeIfAbsent(p, x -> new CommitProtocol(table(), x, "node-" + x));
    PartitionClaim claim = claims.computeIfAbsent(p, x -> protocol.claim());
    long[] seq = sequences.computeIfAbsent(p, x -> new long[] {0});
    List<Record> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long s = seq[0] + i + 1;
      GenericRecord r = GenericRecord.create(t.schema());
      r.setField("stream", i % 2 == 0 ? "clicks" : "orders");
      r.setField("partition_id", p);
      r.setField("sequence", s);
      r.setField("event_time", hour.plusSeconds((s * 37) % 3500));
      r.setField("ingest_time", hour.plusSeconds(3599));
      r.setField("event_key", "k" + (s % 11));
      r.setField(
          "payload", "{\"n\":" + s + ",\"p\":" + p + ",\"text\":\"caf\\u00e9 \u00e9t\u00e9\"}");
      rows.add(r);
    }
    rows.sort(Compactor.tableOrder(t));
    PartitionKey key = new PartitionKey(t.spec(), t.schema());
    key.partition(new InternalRecordWrapper(t.schema().asStruct()).wrap(rows.get(0)));
    RollingDataWriter<Record> writer =
        new RollingDataWriter<>(
            new GenericFileWriterFactory.Builder(t)
                .dataFileFormat(FileFormat.PARQUET)
                .dataSchema(t.schema())
                .dataSortOrder(t.sortOrder())
                .build(),
            OutputFileFactory.builderFor(t, p, seq[0])
                .format(FileFormat.PARQUET)
                .operationId(UUID.randomUUID().toString())
                .build(),
            t.io(),
            128L << 20,
            t.spec(),
            key);
    try (writer) {
      rows.forEach(writer::write);
    }
    DataFile file = writer.result().dataFiles().get(0);
    protocol.commit(claim, seq[0], seq[0] + count, List.of(file), Map.of());
    seq[0] += count;
    return file;
  }

  private List<String> rows(Table t) throws Exception {
    t.refresh();
    List<String> out = new ArrayList<>();
    try (CloseableIterable<Record> all = IcebergGenerics.read(t).build()) {
      all.forEach(r -> out.add(r.toString()));
    }
    out.sort(null);
    return out;
  }

  private TableMaintenance maintenance(
      Map<String, String> extra, Clock clock, PrometheusRegistry registry) {
    Map<String, String> s =
        new HashMap<>(Map.of("maintenance.holder", "test-" + UUID.randomUUID()));
    s.putAll(extra);
    return new TableMaintenance(
        this::table,
        MaintenanceConfig.load(Settings.of(s)),
        new MaintenanceMetrics(registry),
        clock);
  }

  private TableMaintenance maintenance(Map<String, String> extra) {
    return maintenance(extra, Clock.systemUTC(), new PrometheusRegistry());
  }

  private static List<DataFile> files(Table t) throws Exception {
    t.refresh();
    List<DataFile> out = new ArrayList<>();
    try (var tasks = t.newScan().planFiles()) {
      tasks.forEach(task -> out.add(task.file()));
    }
    return out;
  }

  @Test
  void compactsClosedPartitionsIntoSortedFilesWithTheSameRowsAndLeavesOpenOnes() throws Exception {
    for (int i = 0; i < 6; i++) {
      flush(0, closedHour, 50);
      flush(1, closedHour, 30);
    }
    for (int i = 0; i < 3; i++) {
      flush(0, openHour, 10);
    }
    List<String> before = rows(table());
    long committed0 = protocols.get(0).committedSequence();
    long committed1 = protocols.get(1).committedSequence();
    PrometheusRegistry registry = new PrometheusRegistry();

    TableMaintenance.Cycle c = maintenance(Map.of(), Clock.systemUTC(), registry).runOnce();

    assertThat(c.held()).isTrue();
    assertThat(c.groups()).isEqualTo(1);
    assertThat(c.filesIn()).isEqualTo(12);
    assertThat(c.filesOut()).isEqualTo(1);
    Table t = table();
    assertThat(rows(t)).as("every row, byte for byte").isEqualTo(before).hasSize(6 * 80 + 30);
    List<DataFile> after = files(t);
    assertThat(after).hasSize(4);
    int closedValue = (int) (closedHour.toEpochSecond() / 3600);
    List<DataFile> closed =
        after.stream().filter(f -> f.partition().get(0, Integer.class) == closedValue).toList();
    assertThat(closed)
        .singleElement()
        .satisfies(f -> assertThat(f.recordCount()).isEqualTo(6 * 80));
    List<Record> inFileOrder = new ArrayList<>();
    try (CloseableIterable<Record> r =
        Parquet.read(t.io().newInputFile(closed.get(0).location()))
            .project(t.schema())
            .createReaderFunc(fs -> GenericParquetReaders.buildReader(t.schema(), fs))
            .build()) {
      r.forEach(inFileOrder::add);
    }
    assertThat(inFileOrder).isSortedAccordingTo(Compactor.tableOrder(t));
    assertThat(closed.get(0).sortOrderId())
        .as("merged from files sorted so, it declares the table's sort order")
        .isEqualTo(t.sortOrder().orderId());
    assertThat(t.currentSnapshot().operation()).isEqualTo("replace");
    assertThat(protocols.get(0).committedSequence()).isEqualTo(committed0);
    assertThat(protocols.get(1).committedSequence()).isEqualTo(committed1);
    // the nodes go on committing after someone rewrote their files
    flush(1, openHour, 5);
    assertThat(rows(table())).hasSize(6 * 80 + 35);

    ByteArrayOutputStream text = new ByteArrayOutputStream();
    new PrometheusTextFormatWriter(false).write(text, registry.scrape());
    assertThat(text.toString(StandardCharsets.UTF_8))
        .contains(
            "floe_maintenance_lease_held 1.0",
            "floe_maintenance_files_compacted_total 12.0",
            "floe_maintenance_runs_total{outcome=\"ok\",task=\"compact\"} 1.0",
            "floe_maintenance_table_data_files 4.0");
  }

  @Test
  void everyInstanceNamesTheLeaseHolderInItsMetrics() throws Exception {
    flush(0, openHour, 5);
    PrometheusRegistry alphaMetrics = new PrometheusRegistry();
    PrometheusRegistry betaMetrics = new PrometheusRegistry();
    TableMaintenance alpha =
        maintenance(Map.of("maintenance.holder", "alpha"), Clock.systemUTC(), alphaMetrics);
    TableMaintenance beta =
        maintenance(Map.of("maintenance.holder", "beta"), Clock.systemUTC(), betaMetrics);

    assertThat(alpha.runOnce().held()).isTrue();
    assertThat(beta.runOnce().held()).isFalse();

    assertThat(scrape(alphaMetrics))
        .contains("floe_maintenance_lease_held 1.0")
        .contains("floe_maintenance_lease_holder{holder=\"alpha\"} 1.0");
    assertThat(scrape(betaMetrics))
        .as("the operator console reads the holder from whichever instance it asks")
        .contains("floe_maintenance_lease_held 0.0")
        .contains("floe_maintenance_lease_holder{holder=\"alpha\"} 1.0")
        .doesNotContain("holder=\"beta\"");
  }

  @Test
  void aNodeCommittingDuringACompactionLosesNothingAndARewrittenFileIsNeverResurrected()
      throws Exception {
    for (int i = 0; i < 4; i++) {
      flush(0, closedHour, 20);
    }
    Table t = table();
    Compactor compactor = new Compactor(75);
    var plannedOn = t.currentSnapshot();
    List<Compactor.Group> groups =
        compactor.plan(t, plannedOn, now.toEpochMilli() - Duration.ofHours(2).toMillis());
    assertThat(groups).singleElement();
    List<DataFile> written = compactor.write(t, groups.get(0));
    // a late event lands in the same closed hour while the compaction is between write and commit
    flush(0, closedHour, 7);
    compactor.commit(table(), groups.get(0), written, plannedOn.snapshotId());
    assertThat(rows(table())).hasSize(87);
    assertThat(files(table())).hasSize(2);

    // the same group again (its files are gone now): refused, and its output removed
    List<DataFile> again =
        compactor.write(
            table(),
            new Compactor.Group(
                groups.get(0).partitionPath(),
                groups.get(0).partition(),
                groups.get(0).specId(),
                List.of(
                    written.get(0),
                    files(table()).stream()
                        .filter(f -> !f.location().equals(written.get(0).location()))
                        .findFirst()
                        .orElseThrow()),
                0));
    long snapshotBefore = table().currentSnapshot().snapshotId();
    assertThatThrownBy(
            () -> compactor.commit(table(), groups.get(0), again, plannedOn.snapshotId()))
        .isInstanceOf(ValidationException.class);
    assertThat(table().currentSnapshot().snapshotId()).isEqualTo(snapshotBefore);
    assertThat(table().io().newInputFile(again.get(0).location()).exists()).isFalse();
    assertThat(rows(table())).hasSize(87);
  }

  @Test
  void expiryKeepsTheStateNodesRecoverFrom() throws Exception {
    for (int i = 0; i < 5; i++) {
      flush(0, openHour, 10);
      flush(1, openHour, 10);
    }
    long epoch0 = protocols.get(0).currentEpoch();
    Clock later = Clock.offset(Clock.systemUTC(), Duration.ofHours(3));
    TableMaintenance.Cycle c =
        maintenance(
                Map.of(
                    "maintenance.snapshot-retention-seconds",
                    "3600",
                    "maintenance.min-snapshots",
                    "2",
                    "maintenance.compact-after-seconds",
                    "86400"),
                later,
                new PrometheusRegistry())
            .runOnce();
    assertThat(c.expired()).isEqualTo(10); // 2 claims + 10 flushes, the newest 2 kept
    Table t = table();
    assertThat(t.snapshots()).hasSize(2);
    CommitProtocol fresh0 = new CommitProtocol(t, 0, "restarted");
    assertThat(fresh0.committedSequence()).isEqualTo(50);
    assertThat(fresh0.currentEpoch()).isEqualTo(epoch0);
    assertThat(new CommitProtocol(t, 1, "restarted").committedSequence()).isEqualTo(50);
    // the running claims go on committing; a new claim starts from the recorded state
    flush(0, openHour, 10);
    flush(1, openHour, 10);
    assertThat(new CommitProtocol(table(), 0, "x").claim().committedSequence()).isEqualTo(60);
    assertThat(rows(table())).hasSize(120);
  }

  @Test
  void orphansOlderThanTheAgeAreRemovedAndNothingReferencedOrYoungIsTouched() throws Exception {
    DataFile kept = flush(0, openHour, 10);
    flush(0, openHour, 10);
    Path bucket = dir.resolve("s3").resolve("floe");
    Path dataDir;
    try (Stream<Path> found = Files.walk(bucket)) {
      dataDir =
          found
              .filter(p -> p.toString().endsWith(".parquet"))
              .findFirst()
              .orElseThrow()
              .getParent();
    }
    Path oldOrphan = Files.writeString(dataDir.resolve("crashed-flush.parquet"), "half an upload");
    Path youngOrphan =
        Files.writeString(dataDir.resolve("uploading-now.parquet"), "about to be committed");
    // a commit that lost the race to another node's leaves its metadata file: the table's own
    String current = ((HasTableOperations) table()).operations().current().metadataFileLocation();
    Path currentFile = bucket.resolve(current.substring("s3://floe/".length()));
    Path lostCommit =
        Files.copy(
            currentFile,
            currentFile.resolveSibling("00099-" + UUID.randomUUID() + ".metadata.json"));
    FileTime old = FileTime.from(now.minus(Duration.ofDays(4)));
    Files.setLastModifiedTime(oldOrphan, old);
    // referenced files as old as the orphan stay
    try (Stream<Path> all = Files.walk(bucket)) {
      for (Path p : all.filter(Files::isRegularFile).toList()) {
        if (!p.equals(youngOrphan)) {
          Files.setLastModifiedTime(p, old);
        }
      }
    }
    List<String> before = rows(table());

    TableMaintenance.Cycle c = maintenance(Map.of()).runOnce();

    assertThat(c.orphansRemoved()).isEqualTo(2);
    assertThat(oldOrphan).doesNotExist();
    assertThat(lostCommit).doesNotExist();
    assertThat(youngOrphan).exists();
    assertThat(table().io().newInputFile(kept.location()).exists()).isTrue();
    assertThat(rows(table())).isEqualTo(before);
    flush(0, openHour, 1);
    assertThat(rows(table())).hasSize(21);
  }

  /** Every regular file under the bucket. */
  private Set<Path> storedFiles() throws Exception {
    try (Stream<Path> all = Files.walk(dir.resolve("s3").resolve("floe"))) {
      return all.filter(Files::isRegularFile).collect(Collectors.toSet());
    }
  }

  /** The table a node (or anyone) finds at start now: the old one's claims are of no use. */
  private void forgetNodes() {
    protocols.clear();
    claims.clear();
    sequences.clear();
  }

  @Test
  void aTableDroppedWithoutPurgeKeepsEveryFileWhenNodesCreateTheTableAgain() throws Exception {
    flush(0, openHour, 10);
    flush(1, closedHour, 10);
    String oldLocation = table().location();
    Set<Path> oldFiles = storedFiles();
    assertThat(oldFiles).anyMatch(p -> p.toString().endsWith(".metadata.json"));
    // an admin drops it to register it later (purge is gated); a node restarts and creates it
    assertThat(catalog.dropTable(EventsTable.identifier(settings), false)).isTrue();
    forgetNodes();
    Table created = EventsTable.ensure(catalog, settings);
    flush(0, openHour, 5);

    PrometheusRegistry registry = new PrometheusRegistry();
    TableMaintenance.Cycle c =
        maintenance(Map.of(), Clock.offset(Clock.systemUTC(), Duration.ofDays(4)), registry)
            .runOnce();

    assertThat(c.held()).isTrue();
    assertThat(oldFiles)
        .as("every file of the dropped table")
        .allSatisfy(p -> assertThat(p).exists());
    assertThat(created.location())
        .as("the new table has a location of its own")
        .isNotEqualTo(oldLocation)
        .doesNotStartWith(oldLocation + "/");
    assertThat(rows(table())).hasSize(5);
    // the dropped table can be registered again, whole
    forgetNodes();
    String oldMetadata =
        oldFiles.stream()
            .map(Path::toString)
            .filter(n -> n.endsWith(".metadata.json"))
            .max(Comparator.naturalOrder())
            .orElseThrow();
    Table registered =
        catalog.registerTable(
            TableIdentifier.of("floe", "events_old"),
            oldLocation + "/metadata/" + Path.of(oldMetadata).getFileName());
    assertThat(rows(registered)).hasSize(20);
  }

  @Test
  void theOrphanSweepRefusesALocationHoldingAnotherTablesMetadata() throws Exception {
    flush(0, openHour, 10);
    String oldLocation = table().location();
    Set<Path> oldFiles = storedFiles();
    // a catalog that does not give each table a location of its own puts the new one over the old
    assertThat(catalog.dropTable(EventsTable.identifier(settings), false)).isTrue();
    forgetNodes();
    catalog
        .buildTable(EventsTable.identifier(settings), EventsTable.SCHEMA)
        .withLocation(oldLocation)
        .withPartitionSpec(EventsTable.spec(settings))
        .withSortOrder(EventsTable.sortOrder())
        .withProperties(EventsTable.properties(settings))
        .create();
    flush(0, openHour, 5);
    assertThat(table().location()).isEqualTo(oldLocation);

    PrometheusRegistry registry = new PrometheusRegistry();
    TableMaintenance.Cycle c =
        maintenance(Map.of(), Clock.offset(Clock.systemUTC(), Duration.ofDays(4)), registry)
            .runOnce();

    assertThat(c.orphansRemoved()).isZero();
    assertThat(oldFiles)
        .as("every file of the dropped table")
        .allSatisfy(p -> assertThat(p).exists());
    assertThat(rows(table())).hasSize(5);
    assertThat(scrape(registry))
        .contains("floe_maintenance_orphan_sweeps_refused_total 1.0")
        .contains("floe_maintenance_runs_total{outcome=\"failed\",task=\"orphans\"} 1.0");
  }

  @Test
  void manifestsAreRewrittenWhenTheyPileUp() throws Exception {
    for (int i = 0; i < 6; i++) {
      flush(0, openHour, 3);
    }
    assertThat(table().currentSnapshot().dataManifests(table().io())).hasSize(6);
    List<String> before = rows(table());
    TableMaintenance.Cycle c = maintenance(Map.of("maintenance.max-manifests", "3")).runOnce();
    assertThat(c.manifestsRewritten()).isEqualTo(6);
    assertThat(table().currentSnapshot().dataManifests(table().io())).hasSize(1);
    assertThat(rows(table())).isEqualTo(before);
    assertThat(protocols.get(0).committedSequence()).isEqualTo(18);
  }

  @Test
  void oneProcessMaintainsTheTableAndAnotherTakesOverWhenItStops() throws Exception {
    flush(0, openHour, 1);
    TableMaintenance a = maintenance(Map.of("maintenance.lease-seconds", "600"));
    TableMaintenance b = maintenance(Map.of("maintenance.lease-seconds", "600"));
    assertThat(a.runOnce().held()).isTrue();
    assertThat(b.runOnce().held()).isFalse();
    assertThat(a.runOnce().held()).as("renewed").isTrue();
    // a dies without releasing: b takes over once the lease expired
    TableMaintenance bLater =
        new TableMaintenance(
            this::table,
            MaintenanceConfig.load(
                Settings.of(
                    Map.of("maintenance.holder", "b-later", "maintenance.lease-seconds", "600"))),
            new MaintenanceMetrics(new PrometheusRegistry()),
            Clock.offset(Clock.systemUTC(), Duration.ofMinutes(11)));
    assertThat(bLater.runOnce().held()).isTrue();
    assertThat(table().properties()).containsEntry(FloeTableKeys.MAINTENANCE_HOLDER, "b-later");
    // an orderly stop hands the lease over at once
    bLater.close();
    assertThat(table().properties()).doesNotContainKey(FloeTableKeys.MAINTENANCE_HOLDER);
    assertThat(b.runOnce().held()).isTrue();
  }

  /** How a wrapped catalog answers the commit of a compaction (a replace snapshot). */
  private enum CompactionCommit {
    /** The commit lands, then the connection drops: the answer is lost. */
    LANDS_THEN_CONNECTION_LOST,
    /** The catalog refuses it (another writer won the swap), every attempt. */
    REFUSED,
    /** The connection drops before the catalog has it. */
    CONNECTION_LOST_BEFORE,
    /**
     * The commit lands, a node's flush lands on top of it, and the catalog answers the compaction
     * 409 (as the service over PostgreSQL does when the JDBC pool reruns an applied UPDATE).
     */
    LANDS_THEN_REFUSED_AFTER_A_FLUSH
  }

  /** The table, its compaction commits answered as {@code fault} says. */
  private Table tableWith(CompactionCommit fault) {
    Table real = table();
    TableOperations ops = ((HasTableOperations) real).operations();
    AtomicBoolean refusedOnce = new AtomicBoolean();
    return new BaseTable(
        new ForwardingTableOperations(ops) {

          @Override
          public void commit(TableMetadata base, TableMetadata metadata) {
            Snapshot next = metadata.currentSnapshot();
            boolean compaction =
                next != null
                    && DataOperations.REPLACE.equals(next.operation())
                    && (base.currentSnapshot() == null
                        || base.currentSnapshot().snapshotId() != next.snapshotId());
            if (!compaction) {
              ops.commit(base, metadata);
              return;
            }
            switch (fault) {
              case LANDS_THEN_CONNECTION_LOST -> {
                ops.commit(base, metadata);
                throw new UncheckedSQLException(
                    new SQLNonTransientConnectionException(), "connection lost after the update");
              }
              case REFUSED -> throw new CommitFailedException("another writer's commit won");
              case CONNECTION_LOST_BEFORE ->
                  throw new UncheckedSQLException(
                      new SQLNonTransientConnectionException(),
                      "connection lost before the update");
              case LANDS_THEN_REFUSED_AFTER_A_FLUSH -> {
                ops.commit(base, metadata);
                if (!refusedOnce.compareAndSet(false, true)) {
                  return; // a retry's commit, answered truthfully
                }
                try {
                  flush(1, openHour, 5);
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
                throw new CommitFailedException(
                    "Requirement failed: branch main has changed (the rerun matched no row)");
              }
            }
          }
        },
        real.name());
  }

  /** The names of the Parquet files in the bucket. */
  private Set<String> parquetFilesStored() throws Exception {
    try (Stream<Path> all = Files.walk(dir.resolve("s3").resolve("floe"))) {
      return all.map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".parquet"))
          .collect(Collectors.toSet());
    }
  }

  private static Set<String> fileNames(List<DataFile> files) {
    return files.stream()
        .map(f -> f.location().substring(f.location().lastIndexOf('/') + 1))
        .collect(Collectors.toSet());
  }

  private TableMaintenance maintenanceOf(Table faulty, PrometheusRegistry registry) {
    return new TableMaintenance(
        () -> faulty,
        MaintenanceConfig.load(Settings.of(Map.of("maintenance.holder", "test-faulty"))),
        new MaintenanceMetrics(registry),
        Clock.systemUTC());
  }

  private static String scrape(PrometheusRegistry registry) throws Exception {
    ByteArrayOutputStream text = new ByteArrayOutputStream();
    new PrometheusTextFormatWriter(false).write(text, registry.scrape());
    return text.toString(StandardCharsets.UTF_8);
  }

  @Test
  void aCompactionThatLandedButLostItsAnswerKeepsItsFiles() throws Exception {
    for (int i = 0; i < 4; i++) {
      flush(0, closedHour, 20);
    }
    List<String> before = rows(table());

    TableMaintenance.Cycle c =
        maintenanceOf(
                tableWith(CompactionCommit.LANDS_THEN_CONNECTION_LOST), new PrometheusRegistry())
            .runOnce();

    Table t = table();
    assertThat(t.currentSnapshot().operation()).as("the rewrite landed").isEqualTo("replace");
    List<DataFile> current = files(t);
    assertThat(current).hasSize(1);
    assertThat(current)
        .as("every file of the current snapshot exists")
        .allSatisfy(f -> assertThat(t.io().newInputFile(f.location()).exists()).isTrue());
    assertThat(rows(t)).isEqualTo(before).hasSize(80);
    assertThat(c.groups()).as("counted as committed").isEqualTo(1);
    assertThat(c.filesIn()).isEqualTo(4);
  }

  /**
   * Iceberg takes a 409 for a failure: it would retry the rewrite with the same snapshot id, find
   * it in the table, and move main back to it (dropping the node's flush that landed on top), or,
   * with its retries spent, delete the manifests of the snapshot that landed. Maintenance reads the
   * table before acting on a refusal instead.
   */
  @Test
  void aCompactionAnsweredConflictAfterItLandedKeepsItAndTheFlushAfterIt() throws Exception {
    for (int i = 0; i < 4; i++) {
      flush(0, closedHour, 20);
    }
    List<String> before = rows(table());

    TableMaintenance.Cycle c =
        maintenanceOf(
                tableWith(CompactionCommit.LANDS_THEN_REFUSED_AFTER_A_FLUSH),
                new PrometheusRegistry())
            .runOnce();

    Table t = table();
    assertThat(c.groups()).as("counted as committed").isEqualTo(1);
    List<Snapshot> compactions =
        StreamSupport.stream(t.snapshots().spliterator(), false)
            .filter(s -> s.summary().containsKey(FloeTableKeys.COMPACTION_ID))
            .toList();
    assertThat(compactions).as("the rewrite landed once").hasSize(1);
    assertThat(t.currentSnapshot().summary())
        .as("main still ends with the node's flush")
        .containsEntry(FloeTableKeys.partitionCommittedSequence(1), "5");
    assertThat(SnapshotUtil.isAncestorOf(t, compactions.get(0).snapshotId())).isTrue();
    for (Snapshot s : t.snapshots()) {
      assertThat(t.io().newInputFile(s.manifestListLocation()).exists())
          .as("manifest list of snapshot %d", s.snapshotId())
          .isTrue();
      assertThat(s.allManifests(t.io()))
          .allSatisfy(m -> assertThat(t.io().newInputFile(m.path()).exists()).isTrue());
    }
    assertThat(rows(t)).hasSize(85).containsAll(before);
  }

  @Test
  void aCompactionTheCatalogRefusedRemovesItsOutput() throws Exception {
    for (int i = 0; i < 4; i++) {
      flush(0, closedHour, 20);
    }
    List<String> before = rows(table());
    long snapshotBefore = table().currentSnapshot().snapshotId();
    PrometheusRegistry registry = new PrometheusRegistry();

    TableMaintenance.Cycle c =
        maintenanceOf(tableWith(CompactionCommit.REFUSED), registry).runOnce();

    assertThat(c.groups()).isZero();
    assertThat(table().currentSnapshot().snapshotId()).isEqualTo(snapshotBefore);
    assertThat(rows(table())).isEqualTo(before);
    assertThat(parquetFilesStored())
        .as("the rewrite's output is removed: only the table's files are left")
        .isEqualTo(fileNames(files(table())));
    assertThat(scrape(registry))
        .contains("floe_maintenance_runs_total{outcome=\"failed\",task=\"compact\"} 1.0")
        .contains("floe_maintenance_compactions_unknown_total 0.0");
  }

  @Test
  void aCompactionWhoseOutcomeIsUnknownKeepsItsOutputAndIsCounted() throws Exception {
    for (int i = 0; i < 4; i++) {
      flush(0, closedHour, 20);
    }
    List<String> before = rows(table());
    long snapshotBefore = table().currentSnapshot().snapshotId();
    Set<String> tableFiles = fileNames(files(table()));
    PrometheusRegistry registry = new PrometheusRegistry();

    TableMaintenance.Cycle c =
        maintenanceOf(tableWith(CompactionCommit.CONNECTION_LOST_BEFORE), registry).runOnce();

    assertThat(c.groups()).isZero();
    assertThat(table().currentSnapshot().snapshotId()).isEqualTo(snapshotBefore);
    assertThat(rows(table())).isEqualTo(before);
    Set<String> stored = parquetFilesStored();
    assertThat(stored).containsAll(tableFiles);
    assertThat(stored)
        .as("the rewrite's output is kept (it might still land); the orphan sweep removes it")
        .hasSize(tableFiles.size() + 1);
    assertThat(scrape(registry))
        .contains("floe_maintenance_runs_total{outcome=\"failed\",task=\"compact\"} 1.0")
        .contains("floe_maintenance_compactions_unknown_total 1.0");
  }
}
