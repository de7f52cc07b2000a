package io.floe.catalog.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.TableSettings;
import io.floe.common.config.Settings;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.data.GenericFileWriterFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.io.RollingDataWriter;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maintenance of the dead-letter table (partitioned by day of ingest, rows with raw bytes, files
 * written in sequence order as the nodes write them), against a real table: the JDBC catalog on
 * SQLite, Parquet on the local S3-compatible server.
 */
class DeadLetterMaintenanceTest {
  @TempDir Path dir;
  private LocalS3 s3;
  private Catalog catalog;
  private final TableSettings settings = TableSettings.defaults();
  private final Random random = new Random(26);
  private final Instant now = Instant.now();

  /** A day that closed more than compact-after (2 h) ago, and the current one. */
  private final OffsetDateTime closedDay =
      now.minus(3, ChronoUnit.DAYS).truncatedTo(ChronoUnit.DAYS).atOffset(ZoneOffset.UTC);

  private final OffsetDateTime openDay = now.truncatedTo(ChronoUnit.DAYS).atOffset(ZoneOffset.UTC);
  private CommitProtocol protocol;
  private PartitionClaim claim;
  private long sequence;

  @BeforeEach
  void start() throws Exception {
    s3 = LocalS3.start(dir.resolve("s3"), 0, "floe");
    Map<String, String> props = new HashMap<>(s3.fileIoProperties());
    props.put("type", "jdbc");
    props.put("uri", "jdbc:sqlite:" + dir.resolve("catalog.db"));
    props.put("clients", "1");
    props.put("warehouse", "s3://floe/warehouse");
    catalog = CatalogConnector.open("test", props);
    DeadLetterTable.ensure(catalog, settings);
    protocol = new CommitProtocol(table(), 0, "node-0");
    claim = protocol.claim();
  }

  @AfterEach
  void stop() throws Exception {
    if (catalog instanceof AutoCloseable c) {
      c.close();
    }
    s3.close();
  }

  private Table table() {
    return catalog.loadTable(DeadLetterTable.identifier(settings));
  }

  /**
   * A node's dead-letter flush: one file of {@code count} dead letters ingested on {@code day}, in
   * sequence order (streams interleaved, as requests come), committed with the commit protocol.
   * Every third is a replay's outcome row.
   */
  private void flush(OffsetDateTime day, int count) throws Exception {
    Table t = table();
    List<Record> rows = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      long s = sequence + i + 1;
      byte[] raw = new byte[1 + random.nextInt(300)];
      random.nextBytes(raw); // not UTF-8: the bytes as received
      GenericRecord r = GenericRecord.create(t.schema());
      r.setField("stream", s % 3 == 0 ? "orders" : s % 3 == 1 ? "clicks" : "alerts");
      r.setField("partition_id", 0);
      r.setField("sequence", s);
      r.setField("ingest_time", day.plusSeconds((s * 613) % 86_000));
      boolean replay = s % 3 == 2;
      r.setField("error_code", replay ? "replayed" : "malformed_json");
      r.setField("error_detail", replay ? null : "unexpected character at " + s);
      r.setField("position", (int) (s % 7) + 1);
      r.setField("raw", ByteBuffer.wrap(raw));
      r.setField("raw_truncated", s % 5 == 0);
      r.setField("raw_length", raw.length + (s % 5 == 0 ? 1000 : 0));
      r.setField("content_type", "application/x-ndjson");
      r.setField("principal", "producer");
      r.setField("request_id", "req-" + s);
      r.setField("idempotency_key", replay ? "replay:0-" + (s - 1) : null);
      r.setField("replay_count", replay ? 1 : 0);
      r.setField("replay_of", replay ? "0-" + (s - 1) : null);
      rows.add(r);
    }
    PartitionKey key = new PartitionKey(t.spec(), t.schema());
    key.partition(new InternalRecordWrapper(t.schema().asStruct()).wrap(rows.get(0)));
    RollingDataWriter<Record> writer =
        new RollingDataWriter<>(
            new GenericFileWriterFactory.Builder(t)
                .dataFileFormat(FileFormat.PARQUET)
                .dataSchema(t.schema())
                .build(),
            OutputFileFactory.builderFor(t, 0, sequence)
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
    protocol.commit(claim, sequence, sequence + count, writer.result().dataFiles(), Map.of());
    sequence += count;
  }

  /** Every row, each column as text and {@code raw} as hex, ordered by sequence. */
  private static List<String> rows(Table t) throws Exception {
    t.refresh();
    List<String> out = new ArrayList<>();
    try (CloseableIterable<Record> all = IcebergGenerics.read(t).build()) {
      for (Record r : all) {
        out.add(text(t, r));
      }
    }
    out.sort(null);
    return out;
  }

  private static String text(Table t, Record r) {
    StringBuilder b = new StringBuilder(String.format("%012d", (Long) r.getField("sequence")));
    for (Types.NestedField f : t.schema().columns()) {
      Object v = r.getField(f.name());
      b.append('|')
          .append(f.name())
          .append('=')
          .append(
              v instanceof ByteBuffer bytes
                  ? HexFormat.of().formatHex(bytes.array(), bytes.position(), bytes.limit())
                  : v);
    }
    return b.toString();
  }

  private static List<DataFile> files(Table t) throws Exception {
    t.refresh();
    List<DataFile> out = new ArrayList<>();
    try (var tasks = t.newScan().planFiles()) {
      tasks.forEach(task -> out.add(task.file()));
    }
    return out;
  }

  private TableMaintenance maintenance() {
    return new TableMaintenance(
        this::table,
        MaintenanceConfig.load(
            Settings.of(Map.of("maintenance.holder", "test-" + UUID.randomUUID()))),
        new MaintenanceMetrics(new PrometheusRegistry()),
        Clock.systemUTC());
  }

  @Test
  void closedDaysOfDeadLettersAreCompactedKeepingEveryRowAndItsRawBytes() throws Exception {
    for (int i = 0; i < 5; i++) {
      flush(closedDay, 20);
    }
    flush(openDay, 10);
    flush(openDay, 10);
    List<String> before = rows(table());
    long committed = protocol.committedSequence();

    TableMaintenance maintenance = maintenance();
    TableMaintenance.Cycle c = maintenance.runOnce();

    assertThat(c.held()).isTrue();
    assertThat(c.groups()).isEqualTo(1);
    assertThat(c.filesIn()).isEqualTo(5);
    assertThat(c.filesOut()).isEqualTo(1);
    Table t = table();
    assertThat(t.currentSnapshot().operation()).isEqualTo("replace");
    assertThat(rows(t))
        .as("every dead letter and replay outcome once, its raw bytes exactly")
        .hasSize(5 * 20 + 20)
        .isEqualTo(before);
    int closedValue = (int) (closedDay.toEpochSecond() / 86_400);
    List<DataFile> after = files(t);
    assertThat(after).hasSize(3);
    DataFile closed =
        after.stream()
            .filter(f -> f.partition().get(0, Integer.class) == closedValue)
            .findFirst()
            .orElseThrow();
    assertThat(closed.recordCount()).isEqualTo(5 * 20);
    List<Record> inFileOrder = new ArrayList<>();
    try (CloseableIterable<Record> r =
        Parquet.read(t.io().newInputFile(closed.location()))
            .project(t.schema())
            .createReaderFunc(fs -> GenericParquetReaders.buildReader(t.schema(), fs))
            .build()) {
      r.forEach(inFileOrder::add);
    }
    // nodes write dead letters in sequence order, not in the table's sort order: a file claiming
    // that order must have it
    if (closed.sortOrderId() != null && closed.sortOrderId() != 0) {
      assertThat(closed.sortOrderId()).isEqualTo(t.sortOrder().orderId());
      assertThat(inFileOrder)
          .as("a file claiming the table's sort order (stream, ingest time) is sorted so")
          .isSortedAccordingTo(
              Comparator.comparing((Record r) -> (String) r.getField("stream"))
                  .thenComparing(r -> (OffsetDateTime) r.getField("ingest_time")));
    }
    assertThat(protocol.committedSequence()).isEqualTo(committed);

    // the node goes on committing after its files were rewritten, and a second cycle finds nothing
    flush(openDay, 5);
    assertThat(rows(table())).hasSize(5 * 20 + 25);
    assertThat(maintenance.runOnce().groups()).isZero();
  }
}
