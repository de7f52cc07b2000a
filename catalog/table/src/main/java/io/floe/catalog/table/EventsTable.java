package io.floe.catalog.table;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;

/**
 * The one table every node writes: its schema, partition spec, sort order and properties, and its
 * idempotent creation. {@code (partition_id, sequence)} is unique in the table.
 */
public final class EventsTable {
  public static final int STREAM_ID = 1;
  public static final int PARTITION_ID_ID = 2;
  public static final int SEQUENCE_ID = 3;
  public static final int EVENT_TIME_ID = 4;
  public static final int INGEST_TIME_ID = 5;
  public static final int EVENT_KEY_ID = 6;
  public static final int PAYLOAD_ID = 7;

  /** Stream names as DESIGN.md fixes them. */
  public static final Pattern STREAM_NAME = Pattern.compile("^[a-z][a-z0-9_-]{0,127}$");

  /** What {@link #STREAM_NAME} allows, for refusals. */
  public static final String STREAM_NAME_RULE =
      "use 1-128 characters of a-z, 0-9, '_' and '-', starting with a letter";

  public static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(STREAM_ID, "stream", Types.StringType.get()),
              Types.NestedField.required(PARTITION_ID_ID, "partition_id", Types.IntegerType.get()),
              Types.NestedField.required(SEQUENCE_ID, "sequence", Types.LongType.get()),
              Types.NestedField.required(
                  EVENT_TIME_ID, "event_time", Types.TimestampType.withZone()),
              Types.NestedField.required(
                  INGEST_TIME_ID, "ingest_time", Types.TimestampType.withZone()),
              Types.NestedField.optional(EVENT_KEY_ID, "event_key", Types.StringType.get()),
              Types.NestedField.required(PAYLOAD_ID, "payload", Types.StringType.get())),
          Set.of(PARTITION_ID_ID, SEQUENCE_ID));

  private EventsTable() {}

  /**
   * The position of the column with {@code fieldId} in a record of {@code schema} (found by id, so
   * it holds after columns are added).
   */
  public static int position(Schema schema, int fieldId) {
    List<Types.NestedField> columns = schema.columns();
    for (int i = 0; i < columns.size(); i++) {
      if (columns.get(i).fieldId() == fieldId) {
        return i;
      }
    }
    throw new IllegalStateException(
        "the table has no column with field id " + fieldId + ": " + schema);
  }

  public static TableIdentifier identifier(TableSettings s) {
    return TableIdentifier.of(Namespace.of(s.namespace()), s.name());
  }

  public static PartitionSpec spec(TableSettings s) {
    PartitionSpec.Builder b = PartitionSpec.builderFor(SCHEMA);
    return switch (s.partitioning()) {
      case HOUR -> b.hour("event_time").build();
      case DAY -> b.day("event_time").build();
      case MONTH -> b.month("event_time").build();
      case NONE -> PartitionSpec.unpartitioned();
    };
  }

  public static SortOrder sortOrder() {
    return SortOrder.builderFor(SCHEMA).asc("stream").asc("event_time").build();
  }

  public static Map<String, String> properties(TableSettings s) {
    Map<String, String> p = new HashMap<>();
    p.put(TableProperties.FORMAT_VERSION, "2");
    p.put(TableProperties.DEFAULT_FILE_FORMAT, "parquet");
    p.put(TableProperties.PARQUET_COMPRESSION, s.compression().codec());
    if (s.compression() == TableSettings.Compression.ZSTD) {
      p.put(TableProperties.PARQUET_COMPRESSION_LEVEL, Integer.toString(s.compressionLevel()));
    }
    p.put(TableProperties.WRITE_TARGET_FILE_SIZE_BYTES, Long.toString(s.targetFileBytes()));
    p.put(TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true");
    p.put(TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "100");
    p.put(TableProperties.COMMIT_NUM_RETRIES, "20");
    p.put(TableProperties.COMMIT_MIN_RETRY_WAIT_MS, "50");
    p.put(TableProperties.COMMIT_MAX_RETRY_WAIT_MS, "2000");
    return p;
  }

  /**
   * Loads the table, creating it (and its namespace) when absent; safe to race with other nodes.
   */
  public static Table ensure(Catalog catalog, TableSettings s) {
    return TableCreation.ensure(
        catalog, identifier(s), SCHEMA, spec(s), sortOrder(), properties(s));
  }
}
