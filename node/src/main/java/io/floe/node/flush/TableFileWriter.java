package io.floe.node.flush;

import io.floe.catalog.table.EventsTable;
import io.floe.node.columns.ColumnFiller;
import io.floe.node.columns.ColumnSet;
import java.io.IOException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.LongToIntFunction;
import org.apache.avro.util.Utf8;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.io.RollingDataWriter;
import org.apache.iceberg.transforms.Transform;
import org.apache.iceberg.util.PropertyUtil;

/**
 * Writes a {@link FlushCut} as Parquet data files with Iceberg's writers, following a {@link
 * RowPlan}: each chunk of the plan is written by its own rolling writer (new file at the target
 * size), several at once as the {@link UploadConcurrency} allows, streaming to object storage
 * through the table's FileIO.
 */
final class TableFileWriter {
  private static final long HOUR_MICROS = 3_600_000_000L;
  private static final long DAY_MICROS = 24 * HOUR_MICROS;

  private final int partitionId;
  private final ExecutorService pool;
  private final UploadConcurrency concurrency;

  TableFileWriter(int partitionId, ExecutorService pool, UploadConcurrency concurrency) {
    this.partitionId = partitionId;
    this.pool = pool;
    this.concurrency = concurrency;
  }

  /**
   * A written flush: the files, what writing them took, and the values that did not fit their typed
   * column.
   */
  record Written(List<DataFile> files, long bytes, int concurrency, Map<String, Long> mismatches) {}

  /** One chunk's files and mismatches. */
  private record ChunkResult(List<DataFile> files, Map<String, Long> mismatches) {}

  /** Positions of the table's columns in a record of its schema, found by field id. */
  private record Columns(
      int stream,
      int partitionId,
      int sequence,
      int eventTime,
      int ingestTime,
      int key,
      int payload) {
    static Columns of(Schema schema) {
      return new Columns(
          EventsTable.position(schema, EventsTable.STREAM_ID),
          EventsTable.position(schema, EventsTable.PARTITION_ID_ID),
          EventsTable.position(schema, EventsTable.SEQUENCE_ID),
          EventsTable.position(schema, EventsTable.EVENT_TIME_ID),
          EventsTable.position(schema, EventsTable.INGEST_TIME_ID),
          EventsTable.position(schema, EventsTable.EVENT_KEY_ID),
          EventsTable.position(schema, EventsTable.PAYLOAD_ID));
    }
  }

  /** What every chunk of one flush is written with. */
  private record Target(
      Table table,
      ColumnSet typed,
      InternalRowFiles writers,
      OutputFileFactory files,
      long targetFileSize,
      long rowGroupBytes,
      Columns columns) {
    Schema schema() {
      return typed.schema();
    }
  }

  /**
   * Writes {@code cut} with the schema of {@code typed} (the table's newest as the node knows it,
   * so that typed columns added since the last commit are filled).
   */
  Written write(Table table, ColumnSet typed, FlushCut cut, long flushId) throws Exception {
    Schema schema = typed.schema();
    int permits = concurrency.permits();
    RowPlan plan = RowPlan.of(cut, partitionFunction(table.spec()), permits);
    Target target =
        new Target(
            table,
            typed,
            new InternalRowFiles(table, schema, writerProperties(table, schema)),
            OutputFileFactory.builderFor(table, partitionId, flushId)
                .format(FileFormat.PARQUET)
                .operationId("floe-" + UUID.randomUUID())
                .build(),
            PropertyUtil.propertyAsLong(
                table.properties(),
                TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
                TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT),
            PropertyUtil.propertyAsLong(
                table.properties(),
                TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES,
                TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES_DEFAULT),
            Columns.of(schema));

    Semaphore slots = new Semaphore(permits);
    List<Future<ChunkResult>> tasks = new ArrayList<>();
    boolean first = true;
    for (RowPlan.Chunk chunk : plan.chunks()) {
      boolean faultHere = first;
      first = false;
      slots.acquire();
      tasks.add(
          pool.submit(
              () -> {
                try {
                  return writeChunk(target, plan, chunk, faultHere);
                } finally {
                  slots.release();
                }
              }));
    }
    List<DataFile> written = new ArrayList<>();
    Map<String, Long> mismatches = new HashMap<>();
    Exception failure = null;
    for (Future<ChunkResult> task : tasks) {
      try {
        ChunkResult r = task.get();
        written.addAll(r.files());
        r.mismatches().forEach((column, n) -> mismatches.merge(column, n, Long::sum));
      } catch (ExecutionException e) {
        failure = e.getCause() instanceof Exception ex ? ex : e;
      }
    }
    if (failure != null) {
      throw failure; // files already written are never committed: orphans for maintenance
    }
    long bytes = written.stream().mapToLong(DataFile::fileSizeInBytes).sum();
    return new Written(written, bytes, permits, mismatches);
  }

  private ChunkResult writeChunk(Target t, RowPlan plan, RowPlan.Chunk chunk, boolean faultHere)
      throws IOException {
    PartitionSpec spec = t.table().spec();
    PartitionKey partition = null;
    if (spec.isPartitioned()) {
      partition = new PartitionKey(spec, t.schema());
      partition.set(0, chunk.partition());
    }
    Columns c = t.columns();
    ColumnFiller typed = t.typed().filler();
    EventRow row = new EventRow(t.schema().columns().size());
    Object[] values = row.values();
    values[c.partitionId()] = partitionId;
    Utf8[] streams = new Utf8[plan.streamCount()];
    Utf8 key = new Utf8();
    Utf8 payload = new Utf8();
    RollingDataWriter<StructLike> writer =
        new RollingDataWriter<>(
            t.writers(), t.files(), t.table().io(), t.targetFileSize(), spec, partition);
    try {
      for (int i = chunk.from(); i < chunk.to(); i++) {
        int r = plan.rowAt(i);
        int rank = plan.streamRank(r);
        if (streams[rank] == null) {
          streams[rank] = new Utf8(plan.stream(r));
        }
        byte[] json = plan.payloadArray(r);
        values[c.stream()] = streams[rank];
        values[c.sequence()] = plan.sequence(r);
        values[c.eventTime()] = plan.eventTimeMicros(r);
        values[c.ingestTime()] = plan.ingestTimeMicros(r);
        values[c.key()] =
            plan.keyOffset(r) < 0 ? null : utf8(key, json, plan.keyOffset(r), plan.keyLength(r));
        // the payload's UTF-8 bytes as they are stored (the decoder validated them), copied into
        // one reused buffer: Iceberg's string writer takes an Avro Utf8 as bytes, where a String
        // would be decoded here and encoded again there
        values[c.payload()] = utf8(payload, json, plan.payloadOffset(r), plan.payloadLength(r));
        typed.fill(values, plan.stream(r), json, plan.payloadOffset(r), plan.payloadLength(r));
        writer.write(row);
        if (faultHere && i == chunk.from() + chunk.rows() / 2) {
          FaultPoint.MID_UPLOAD.reach();
        }
      }
    } finally {
      writer.close();
    }
    List<DataFile> result = writer.result().dataFiles();
    // an open Parquet writer holds its current row group: at most the file, at most a row group
    long largest = result.stream().mapToLong(DataFile::fileSizeInBytes).max().orElse(0);
    concurrency.observe(Math.min(largest, t.rowGroupBytes()));
    return new ChunkResult(result, typed.mismatches());
  }

  /** {@code bytes[from, from + length)} in {@code reused}, which it returns. */
  private static Utf8 utf8(Utf8 reused, byte[] bytes, int from, int length) {
    reused.setByteLength(length);
    System.arraycopy(bytes, from, reused.getBytes(), 0, length);
    return reused;
  }

  /**
   * Parquet settings for Floe's own columns whose values (nearly) never repeat within a file: each
   * event's sequence, its event time (microseconds) and its payload get no dictionary. Parquet
   * would otherwise hash every value of each page into a dictionary only to find it too large or no
   * smaller than the plain values and drop it (the largest CPU item of writing a file); values are
   * written plain either way, then compressed by the table's codec. A table property naming the
   * column ({@code write.parquet.dict-encoding-enabled.column.<name>}) still wins.
   */
  static Map<String, String> writerProperties(Table table, Schema schema) {
    Map<String, String> out = new HashMap<>();
    for (int id :
        new int[] {EventsTable.SEQUENCE_ID, EventsTable.EVENT_TIME_ID, EventsTable.PAYLOAD_ID}) {
      String key =
          TableProperties.PARQUET_DICT_ENCODING_ENABLED_COLUMN_PREFIX + schema.findColumnName(id);
      if (!table.properties().containsKey(key)) {
        out.put(key, "false");
      }
    }
    return out;
  }

  /**
   * The table's partition value of an event time (micros), or 0 for an unpartitioned table. Hour
   * and day partitions of times since the epoch are whole hours or days of micros, computed so
   * (Iceberg's transform goes through an {@link OffsetDateTime} per event); other transforms and
   * times before 1970 use Iceberg's transform.
   */
  @SuppressWarnings("unchecked")
  static LongToIntFunction partitionFunction(PartitionSpec spec) {
    if (!spec.isPartitioned()) {
      return micros -> 0;
    }
    PartitionField field = spec.fields().get(0);
    if (spec.fields().size() != 1 || field.sourceId() != EventsTable.EVENT_TIME_ID) {
      throw new IllegalStateException(
          "Floe writes tables partitioned by one transform of event_time; found " + spec);
    }
    var bound =
        ((Transform<Long, Integer>) field.transform())
            .bind(spec.schema().findType(field.sourceId()));
    long unit =
        switch (field.transform().toString()) {
          case "hour" -> HOUR_MICROS;
          case "day" -> DAY_MICROS;
          default -> 0;
        };
    if (unit == 0) {
      return micros -> bound.apply(micros);
    }
    return micros -> micros >= 0 ? (int) (micros / unit) : bound.apply(micros);
  }
}
