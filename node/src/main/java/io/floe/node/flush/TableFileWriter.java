package io.floe.node.flush;

import io.floe.catalog.table.EventsTable;
import io.floe.node.event.EventBatch;
import io.floe.node.event.EventBatchReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.function.Function;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.GenericFileWriterFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.io.RollingDataWriter;
import org.apache.iceberg.util.DateTimeUtil;
import org.apache.iceberg.util.PropertyUtil;

/**
 * Writes a {@link FlushCut} as Parquet data files with Iceberg's writers: rows are ordered by
 * table partition, then {@code stream, event_time} (the table's sort order); each table partition
 * is written by its own rolling writers (new file at the target size), a large one split into
 * contiguous chunks so that even one hot partition uses every permit; several at once as the
 * {@link UploadConcurrency} allows, streaming to object storage through the table's FileIO.
 */
final class TableFileWriter {
  /** Smallest input a parallel chunk of one partition gets (fewer, larger files below it). */
  static final long MIN_CHUNK_BYTES = 32L << 20;

  private final int partitionId;
  private final ExecutorService pool;
  private final UploadConcurrency concurrency;

  TableFileWriter(int partitionId, ExecutorService pool, UploadConcurrency concurrency) {
    this.partitionId = partitionId;
    this.pool = pool;
    this.concurrency = concurrency;
  }

  /** Rows of a cut, as parallel arrays indexed by row. */
  private static final class Rows {
    final int[] batch;
    final long[] sequence;
    final long[] eventTime;
    final int[] streamRank;
    final int[] partition;
    final int[] payloadOff;
    final int[] payloadLen;
    final String[] key;

    Rows(int n) {
      batch = new int[n];
      sequence = new long[n];
      eventTime = new long[n];
      streamRank = new int[n];
      partition = new int[n];
      payloadOff = new int[n];
      payloadLen = new int[n];
      key = new String[n];
    }
  }

  /** A written flush: the files, and what writing them took. */
  record Written(List<DataFile> files, long bytes, int concurrency) {}

  Written write(Table table, FlushCut cut, long flushId) throws Exception {
    PartitionSpec spec = table.spec();
    Function<Long, Integer> partitionOf = partitionFunction(spec);
    Map<String, Integer> streamRanks = new TreeMap<>();
    for (EventBatch b : cut.batches()) {
      streamRanks.put(b.stream(), 0);
    }
    int rank = 0;
    for (Map.Entry<String, Integer> e : streamRanks.entrySet()) {
      e.setValue(rank++);
    }
    Rows rows = index(cut, streamRanks, partitionOf);
    int[] order = new int[cut.events()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    IndexSort.sort(order, (a, b) -> {
      int c = Integer.compare(rows.partition[a], rows.partition[b]);
      if (c == 0) {
        c = Integer.compare(rows.streamRank[a], rows.streamRank[b]);
      }
      if (c == 0) {
        c = Long.compare(rows.eventTime[a], rows.eventTime[b]);
      }
      return c != 0 ? c : Long.compare(rows.sequence[a], rows.sequence[b]);
    });

    GenericFileWriterFactory writers = new GenericFileWriterFactory.Builder(table)
        .dataFileFormat(FileFormat.PARQUET)
        .dataSchema(table.schema())
        .dataSortOrder(table.sortOrder())
        .build();
    OutputFileFactory files = OutputFileFactory.builderFor(table, partitionId, flushId)
        .format(FileFormat.PARQUET)
        .operationId("floe-" + UUID.randomUUID())
        .build();
    long targetFileSize = PropertyUtil.propertyAsLong(table.properties(),
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES, TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT);
    long rowGroupBytes = PropertyUtil.propertyAsLong(table.properties(),
        TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES, TableProperties.PARQUET_ROW_GROUP_SIZE_BYTES_DEFAULT);

    int permits = concurrency.permits();
    List<int[]> groups = chunks(groups(order, rows.partition), chunkRows(cut, permits));
    Semaphore slots = new Semaphore(permits);
    List<Future<List<DataFile>>> tasks = new ArrayList<>();
    String[] streams = streamRanks.keySet().toArray(String[]::new);
    boolean first = true;
    for (int[] range : groups) {
      boolean faultHere = first;
      first = false;
      slots.acquire();
      tasks.add(pool.submit(() -> {
        try {
          return writeGroup(table, spec, writers, files, targetFileSize, rowGroupBytes, cut, rows, order,
              range[0], range[1], streams, faultHere);
        } finally {
          slots.release();
        }
      }));
    }
    List<DataFile> written = new ArrayList<>();
    Exception failure = null;
    for (Future<List<DataFile>> task : tasks) {
      try {
        written.addAll(task.get());
      } catch (java.util.concurrent.ExecutionException e) {
        failure = e.getCause() instanceof Exception ex ? ex : e;
      }
    }
    if (failure != null) {
      throw failure; // files already written are never committed: orphans for maintenance
    }
    long bytes = written.stream().mapToLong(DataFile::fileSizeInBytes).sum();
    return new Written(written, bytes, permits);
  }

  private List<DataFile> writeGroup(Table table, PartitionSpec spec, GenericFileWriterFactory writers,
      OutputFileFactory files, long targetFileSize, long rowGroupBytes, FlushCut cut, Rows rows, int[] order,
      int from, int to, String[] streams, boolean faultHere) throws IOException {
    PartitionKey key = null;
    if (spec.isPartitioned()) {
      key = new PartitionKey(spec, table.schema());
      key.set(0, rows.partition[order[from]]);
    }
    GenericRecord record = GenericRecord.create(table.schema());
    RollingDataWriter<Record> writer = new RollingDataWriter<>(writers, files, table.io(), targetFileSize, spec, key);
    try {
      for (int i = from; i < to; i++) {
        int r = order[i];
        EventBatch batch = cut.batches().get(rows.batch[r]);
        record.set(0, streams[rows.streamRank[r]]);
        record.set(1, partitionId);
        record.set(2, rows.sequence[r]);
        record.set(3, DateTimeUtil.timestamptzFromMicros(rows.eventTime[r]));
        record.set(4, DateTimeUtil.timestamptzFromMicros(batch.ingestTimeMicros()));
        record.set(5, rows.key[r]);
        record.set(6, new String(batch.array(), rows.payloadOff[r], rows.payloadLen[r], StandardCharsets.UTF_8));
        writer.write(record);
        if (faultHere && i == from + (to - from) / 2) {
          FaultPoint.MID_UPLOAD.reach();
        }
      }
    } finally {
      writer.close();
    }
    List<DataFile> result = writer.result().dataFiles();
    // an open Parquet writer holds its current row group: at most the file, at most a row group
    long largest = result.stream().mapToLong(DataFile::fileSizeInBytes).max().orElse(0);
    concurrency.observe(Math.min(largest, rowGroupBytes));
    return result;
  }

  private static Rows index(FlushCut cut, Map<String, Integer> streamRanks, Function<Long, Integer> partitionOf) {
    Rows rows = new Rows(cut.events());
    int r = 0;
    for (int b = 0; b < cut.batches().size(); b++) {
      EventBatch batch = cut.batches().get(b);
      int stream = streamRanks.get(batch.stream());
      long first = cut.firstSequences().get(b);
      EventBatchReader reader = batch.reader();
      while (reader.next()) {
        rows.batch[r] = b;
        rows.sequence[r] = first + reader.index();
        rows.eventTime[r] = reader.eventTimeMicros();
        rows.streamRank[r] = stream;
        rows.partition[r] = partitionOf.apply(reader.eventTimeMicros());
        rows.payloadOff[r] = reader.payloadOffset();
        rows.payloadLen[r] = reader.payloadLength();
        rows.key[r] = reader.key();
        r++;
      }
    }
    return rows;
  }

  /**
   * Rows per file writer: real-time data falls mostly into one table partition, so a partition's
   * rows are split into contiguous chunks written in parallel (each its own sorted files) until
   * there is one per permit, but no chunk below {@link #MIN_CHUNK_BYTES} of input.
   */
  static int chunkRows(FlushCut cut, int permits) {
    long bytesPerRow = Math.max(1, cut.bytes() / Math.max(1, cut.events()));
    long byBytes = Math.max(1, MIN_CHUNK_BYTES / bytesPerRow);
    long byPermits = (cut.events() + (long) permits - 1) / permits;
    return (int) Math.max(byBytes, byPermits);
  }

  /** Each range split into near-equal contiguous chunks of at most {@code maxRows}. */
  static List<int[]> chunks(List<int[]> ranges, int maxRows) {
    List<int[]> out = new ArrayList<>();
    for (int[] r : ranges) {
      int rows = r[1] - r[0];
      int n = (rows + maxRows - 1) / maxRows;
      for (int i = 0; i < n; i++) {
        out.add(new int[] {r[0] + (int) ((long) rows * i / n), r[0] + (int) ((long) rows * (i + 1) / n)});
      }
    }
    return out;
  }

  /** Contiguous [from, to) ranges of equal partition value in sorted order. */
  private static List<int[]> groups(int[] order, int[] partition) {
    List<int[]> out = new ArrayList<>();
    int start = 0;
    for (int i = 1; i <= order.length; i++) {
      if (i == order.length || partition[order[i]] != partition[order[start]]) {
        out.add(new int[] {start, i});
        start = i;
      }
    }
    return out;
  }

  /** The table's partition value of an event time (micros), or 0 for an unpartitioned table. */
  @SuppressWarnings("unchecked")
  private static Function<Long, Integer> partitionFunction(PartitionSpec spec) {
    if (!spec.isPartitioned()) {
      return micros -> 0;
    }
    var field = spec.fields().get(0);
    if (spec.fields().size() != 1 || field.sourceId() != EventsTable.EVENT_TIME_ID) {
      throw new IllegalStateException("Floe writes tables partitioned by one transform of event_time; found "
          + spec);
    }
    var bound = ((org.apache.iceberg.transforms.Transform<Long, Integer>) field.transform())
        .bind(spec.schema().findType(field.sourceId()));
    return bound::apply;
  }
}
