package io.floe.node.flush;

import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.EventsTable;
import io.floe.node.event.DeadLetterBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.UUID;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.GenericFileWriterFactory;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.FanoutDataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.util.DateTimeUtil;
import org.apache.iceberg.util.PropertyUtil;

/**
 * Writes a {@link DeadLetterCut} as Parquet data files of the dead-letter table, one writer per day
 * of ingest (the table's partitions), with Iceberg's writers. Dead letters are few: one thread.
 */
final class DeadLetterFileWriter {
  private static final long MICROS_PER_DAY = 86_400_000_000L;
  private final int partitionId;

  DeadLetterFileWriter(int partitionId) {
    this.partitionId = partitionId;
  }

  List<DataFile> write(Table table, DeadLetterCut cut, long flushId) throws IOException {
    Schema schema = table.schema();
    PartitionSpec spec = table.spec();
    FanoutDataWriter<Record> writer =
        new FanoutDataWriter<>(
            new GenericFileWriterFactory.Builder(table)
                .dataFileFormat(FileFormat.PARQUET)
                .dataSchema(schema)
                .build(),
            OutputFileFactory.builderFor(table, partitionId, flushId)
                .format(FileFormat.PARQUET)
                .operationId("floe-dead-letters-" + UUID.randomUUID())
                .build(),
            table.io(),
            PropertyUtil.propertyAsLong(
                table.properties(),
                TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
                TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT));
    GenericRecord record = GenericRecord.create(schema);
    try {
      for (int b = 0; b < cut.batches().size(); b++) {
        DeadLetterBatch batch = cut.batches().get(b);
        long first = cut.firstSequences().get(b);
        DeadLetterBatch.Context c = batch.context();
        PartitionKey key = null;
        if (spec.isPartitioned()) {
          key = new PartitionKey(spec, schema);
          key.set(0, (int) Math.floorDiv(c.ingestTimeMicros(), MICROS_PER_DAY));
        }
        for (int i = 0; i < batch.count(); i++) {
          DeadLetterBatch.Record r = batch.records().get(i);
          set(record, schema, DeadLetterTable.STREAM_ID, c.stream());
          set(record, schema, DeadLetterTable.PARTITION_ID_ID, partitionId);
          set(record, schema, DeadLetterTable.SEQUENCE_ID, first + i);
          set(
              record,
              schema,
              DeadLetterTable.INGEST_TIME_ID,
              DateTimeUtil.timestamptzFromMicros(c.ingestTimeMicros()));
          set(record, schema, DeadLetterTable.ERROR_CODE_ID, r.code());
          set(record, schema, DeadLetterTable.ERROR_DETAIL_ID, r.detail());
          set(record, schema, DeadLetterTable.POSITION_ID, r.position());
          set(record, schema, DeadLetterTable.RAW_ID, ByteBuffer.wrap(r.raw()));
          set(record, schema, DeadLetterTable.RAW_TRUNCATED_ID, r.truncated());
          set(record, schema, DeadLetterTable.RAW_LENGTH_ID, r.originalLength());
          set(record, schema, DeadLetterTable.CONTENT_TYPE_ID, blankToNull(c.contentType()));
          set(record, schema, DeadLetterTable.PRINCIPAL_ID, blankToNull(c.principal()));
          set(record, schema, DeadLetterTable.REQUEST_ID_ID, blankToNull(c.requestId()));
          set(record, schema, DeadLetterTable.IDEMPOTENCY_KEY_ID, blankToNull(c.idempotencyKey()));
          set(record, schema, DeadLetterTable.REPLAY_COUNT_ID, c.replayCount());
          set(record, schema, DeadLetterTable.REPLAY_OF_ID, blankToNull(c.replayOf()));
          writer.write(record, spec, key);
        }
      }
    } finally {
      writer.close();
    }
    return writer.result().dataFiles();
  }

  private static void set(GenericRecord record, Schema schema, int fieldId, Object value) {
    record.set(EventsTable.position(schema, fieldId), value);
  }

  private static String blankToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
