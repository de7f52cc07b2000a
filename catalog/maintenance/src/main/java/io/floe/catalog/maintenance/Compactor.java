package io.floe.catalog.maintenance;

import io.floe.catalog.table.FloeTableKeys;
import java.io.IOException;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.PartitionField;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.SortOrderComparators;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.GenericFileWriterFactory;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.exceptions.CleanableFailure;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.io.RollingDataWriter;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.PropertyUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compaction of closed time partitions: the small data files of a partition whose time range ended
 * more than {@code compact-after} ago are merged, in bins of about the target file size, into files
 * sorted by the table's sort order (events table: stream, event time), then by the table's
 * identifier fields (partition and sequence). Inputs that each declare the table's sort order (the
 * events table's nodes write them so) are merged as streams: memory is one row per input file plus
 * the writer's row group, and the output declares the order. Inputs that do not (the dead-letter
 * table's nodes write in sequence order) are merged the same way, keeping every row, but the output
 * declares no order: nothing is sorted in memory.
 *
 * <p>Nothing here depends on a table's columns: rows are read and written whole with the table's
 * schema, so it serves the events table and the dead-letter table (partitioned by day of ingest)
 * alike. The rewrite is committed with Iceberg's rewrite operation, validated from the snapshot it
 * was planned on: nodes' appends meanwhile never conflict, and a file another writer rewrote or
 * deleted meanwhile makes the commit fail rather than resurrect it. It touches no table property,
 * so the nodes' per-partition commit state is the same after it.
 */
final class Compactor {
  /** Files of one partition to merge into one (or a few) files. */
  record Group(
      String partitionPath, StructLike partition, int specId, List<DataFile> files, long bytes) {}

  private static final Logger LOG = LoggerFactory.getLogger(Compactor.class);
  private static final AtomicInteger TASKS = new AtomicInteger();
  private final int smallFilePercent;

  Compactor(int smallFilePercent) {
    this.smallFilePercent = smallFilePercent;
  }

  static long targetFileSize(Table table) {
    return PropertyUtil.propertyAsLong(
        table.properties(),
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
        TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT);
  }

  long smallFileBytes(Table table) {
    return targetFileSize(table) * smallFilePercent / 100;
  }

  /**
   * The groups to compact in {@code snapshot}: per closed partition of the current spec without
   * delete files, its small files in bins of up to the target size; a bin of one file is left
   * alone.
   */
  List<Group> plan(Table table, Snapshot snapshot, long closedBeforeMillis) throws IOException {
    PartitionSpec spec = table.spec();
    String transform = timeTransform(spec, table.schema());
    if (snapshot == null || transform == null) {
      return List.of();
    }
    long small = smallFileBytes(table);
    long target = targetFileSize(table);
    Map<String, List<DataFile>> byPartition = new LinkedHashMap<>();
    Map<String, StructLike> partitions = new LinkedHashMap<>();
    Set<String> withDeletes = new HashSet<>();
    try (CloseableIterable<FileScanTask> tasks =
        table.newScan().useSnapshot(snapshot.snapshotId()).planFiles()) {
      for (FileScanTask task : tasks) {
        DataFile file = task.file();
        if (file.specId() != spec.specId()) {
          continue;
        }
        String path = spec.partitionToPath(file.partition());
        if (!task.deletes().isEmpty()) {
          withDeletes.add(path);
        }
        Integer value = file.partition().get(0, Integer.class);
        if (value == null
            || partitionEndMillis(transform, value) > closedBeforeMillis
            || file.fileSizeInBytes() >= small) {
          continue;
        }
        byPartition.computeIfAbsent(path, p -> new ArrayList<>()).add(file);
        partitions.putIfAbsent(path, file.partition());
      }
    }
    List<Group> groups = new ArrayList<>();
    for (Map.Entry<String, List<DataFile>> e : byPartition.entrySet()) {
      if (withDeletes.contains(e.getKey())) {
        continue; // rows deleted by position or equality: left to an engine that applies deletes
      }
      List<DataFile> bin = new ArrayList<>();
      long bytes = 0;
      for (DataFile f : e.getValue()) {
        if (!bin.isEmpty() && bytes + f.fileSizeInBytes() > target) {
          addGroup(groups, e.getKey(), partitions.get(e.getKey()), spec.specId(), bin, bytes);
          bin = new ArrayList<>();
          bytes = 0;
        }
        bin.add(f);
        bytes += f.fileSizeInBytes();
      }
      addGroup(groups, e.getKey(), partitions.get(e.getKey()), spec.specId(), bin, bytes);
    }
    return groups;
  }

  private static void addGroup(
      List<Group> groups,
      String path,
      StructLike partition,
      int specId,
      List<DataFile> bin,
      long bytes) {
    if (bin.size() >= 2) {
      groups.add(new Group(path, partition, specId, List.copyOf(bin), bytes));
    }
  }

  /**
   * The transform of a spec partitioned by one timestamp column alone (hour, day or month: the
   * events table's event time, the dead-letter table's ingest time), or null.
   */
  static String timeTransform(PartitionSpec spec, Schema schema) {
    if (spec.fields().size() != 1) {
      return null;
    }
    PartitionField f = spec.fields().get(0);
    String t = f.transform().toString();
    Types.NestedField source = schema.findField(f.sourceId());
    return source != null
            && source.type().typeId() == Type.TypeID.TIMESTAMP
            && List.of("hour", "day", "month").contains(t)
        ? t
        : null;
  }

  /** When a partition's time range ends (exclusive), in epoch milliseconds. */
  static long partitionEndMillis(String transform, int value) {
    return switch (transform) {
      case "hour" -> (value + 1L) * 3_600_000L;
      case "day" -> (value + 1L) * 86_400_000L;
      case "month" ->
          YearMonth.of(1970, 1)
              .plusMonths(value + 1L)
              .atDay(1)
              .atStartOfDay(ZoneOffset.UTC)
              .toInstant()
              .toEpochMilli();
      default -> throw new IllegalArgumentException("not a time transform: " + transform);
    };
  }

  /** Merges the group's files into new data files (not committed yet). */
  List<DataFile> write(Table table, Group group) throws IOException {
    Schema schema = table.schema();
    PartitionSpec spec = table.specs().get(group.specId());
    Comparator<Record> order = tableOrder(table);
    SortOrder sortOrder = table.sortOrder();
    boolean sorted =
        sortOrder.isSorted()
            && group.files().stream()
                .allMatch(f -> f.sortOrderId() != null && f.sortOrderId() == sortOrder.orderId());
    List<CloseableIterable<Record>> inputs = new ArrayList<>();
    RollingDataWriter<Record> writer =
        new RollingDataWriter<>(
            new GenericFileWriterFactory.Builder(table)
                .dataFileFormat(FileFormat.PARQUET)
                .dataSchema(schema)
                .dataSortOrder(sorted ? sortOrder : SortOrder.unsorted())
                .build(),
            OutputFileFactory.builderFor(table, 0, TASKS.incrementAndGet())
                .format(FileFormat.PARQUET)
                .operationId("floe-compaction-" + UUID.randomUUID())
                .build(),
            table.io(),
            targetFileSize(table),
            spec,
            group.partition());
    boolean written = false;
    try {
      record Head(Record row, Iterator<Record> rest) {}
      PriorityQueue<Head> heads = new PriorityQueue<>((a, b) -> order.compare(a.row(), b.row()));
      for (DataFile f : group.files()) {
        CloseableIterable<Record> rows =
            Parquet.read(table.io().newInputFile(f.location()))
                .project(schema)
                .createReaderFunc(
                    fileSchema -> GenericParquetReaders.buildReader(schema, fileSchema))
                .build();
        inputs.add(rows);
        Iterator<Record> it = rows.iterator();
        if (it.hasNext()) {
          heads.add(new Head(it.next(), it));
        }
      }
      while (!heads.isEmpty()) {
        Head h = heads.poll();
        writer.write(h.row());
        if (h.rest().hasNext()) {
          heads.add(new Head(h.rest().next(), h.rest()));
        }
      }
      written = true;
    } finally {
      for (CloseableIterable<Record> in : inputs) {
        in.close();
      }
      writer.close();
      if (!written) {
        deleteQuietly(table, writer.result().dataFiles());
      }
    }
    return writer.result().dataFiles();
  }

  /**
   * Replaces the group's files with {@code added}, validated from {@code plannedOn}: fails when
   * another writer removed or rewrote one of the files meanwhile.
   *
   * <p>An error from the commit does not prove that it failed (the catalog may have applied it and
   * then lost the connection; Iceberg may have retried an attempt that had landed), so the table is
   * read again first: a rewrite found there is committed, and {@code added} stays. Only a failure
   * Iceberg marks as certain ({@link CleanableFailure}) of a rewrite the table does not have
   * removes {@code added}.
   *
   * @throws CommitStateUnknownException when it cannot be told whether the rewrite landed; {@code
   *     added} is kept (if the rewrite never lands, the orphan sweep removes them)
   */
  void commit(Table table, Group group, List<DataFile> added, long plannedOn) {
    String id = UUID.randomUUID().toString();
    try {
      RewriteFiles rewrite = table.newRewrite().validateFromSnapshot(plannedOn);
      group.files().forEach(rewrite::deleteFile);
      added.forEach(rewrite::addFile);
      rewrite
          .set(FloeTableKeys.OPERATION, FloeTableKeys.OPERATION_COMPACTION)
          .set(FloeTableKeys.COMPACTED_PARTITION, group.partitionPath())
          .set(FloeTableKeys.COMPACTION_ID, id)
          .commit();
    } catch (RuntimeException e) {
      boolean landed;
      try {
        landed = landed(table, id);
      } catch (RuntimeException unreadable) {
        e.addSuppressed(unreadable);
        throw unknown(e);
      }
      if (landed) {
        LOG.warn(
            "compaction of partition {} landed although its commit answered {}",
            group.partitionPath(),
            e.toString());
        return;
      }
      if (!(e instanceof CleanableFailure)) {
        throw unknown(e);
      }
      deleteQuietly(table, added);
      throw e;
    }
  }

  /** Whether the table, read again, has the snapshot of the compaction {@code id}. */
  private static boolean landed(Table table, String id) {
    table.refresh();
    for (Snapshot s : table.snapshots()) {
      if (id.equals(s.summary().get(FloeTableKeys.COMPACTION_ID))) {
        return true;
      }
    }
    return false;
  }

  private static CommitStateUnknownException unknown(RuntimeException e) {
    return e instanceof CommitStateUnknownException known
        ? known
        : new CommitStateUnknownException(e);
  }

  private static void deleteQuietly(Table table, List<DataFile> files) {
    for (DataFile f : files) {
      try {
        table.io().deleteFile(f.location());
      } catch (RuntimeException | Error ignored) {
        // an orphan then: the orphan sweep removes it
      }
    }
  }

  /**
   * The table's sort order (events table: stream, event time), then its identifier fields
   * (partition, sequence): unique per row. For one thread at a time.
   */
  static Comparator<Record> tableOrder(Table table) {
    Schema schema = table.schema();
    Comparator<StructLike> order = (a, b) -> 0;
    if (table.sortOrder().isSorted()) {
      order = SortOrderComparators.forSchema(schema, table.sortOrder());
    }
    if (!schema.identifierFieldIds().isEmpty()) {
      SortOrder.Builder ids = SortOrder.builderFor(schema);
      schema.identifierFieldIds().stream()
          .sorted()
          .forEach(id -> ids.asc(schema.findColumnName(id)));
      order = order.thenComparing(SortOrderComparators.forSchema(schema, ids.build()));
    }
    // the comparators read Iceberg's internal values (a timestamp as micros), which a generic
    // record does not hold: each side is read through its own wrapper
    Comparator<StructLike> internal = order;
    InternalRecordWrapper left = new InternalRecordWrapper(schema.asStruct());
    InternalRecordWrapper right = new InternalRecordWrapper(schema.asStruct());
    return (a, b) -> internal.compare(left.wrap(a), right.wrap(b));
  }
}
