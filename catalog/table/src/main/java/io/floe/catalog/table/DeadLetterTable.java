package io.floe.catalog.table;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;

/**
 * The dead-letter table beside the events table ({@code table.dead-letter-name}, default {@code
 * events_dead_letter}, in the events table's namespace): one row per record a stream kept instead
 * of refusing its request, with its raw bytes and its request's context. Committed by the nodes
 * with the same {@code CommitProtocol} and the same per-partition keys as the events table; {@code
 * (partition_id, sequence)} is unique in it, and across both tables. Partitioned by day of ingest.
 */
public final class DeadLetterTable {
  public static final int STREAM_ID = 1;
  public static final int PARTITION_ID_ID = 2;
  public static final int SEQUENCE_ID = 3;
  public static final int INGEST_TIME_ID = 4;
  public static final int ERROR_CODE_ID = 5;
  public static final int ERROR_DETAIL_ID = 6;
  public static final int POSITION_ID = 7;
  public static final int RAW_ID = 8;
  public static final int RAW_TRUNCATED_ID = 9;
  public static final int RAW_LENGTH_ID = 10;
  public static final int CONTENT_TYPE_ID = 11;
  public static final int PRINCIPAL_ID = 12;
  public static final int REQUEST_ID_ID = 13;
  public static final int IDEMPOTENCY_KEY_ID = 14;
  public static final int REPLAY_COUNT_ID = 15;
  public static final int REPLAY_OF_ID = 16;

  public static final Schema SCHEMA =
      new Schema(
          List.of(
              Types.NestedField.required(STREAM_ID, "stream", Types.StringType.get()),
              Types.NestedField.required(PARTITION_ID_ID, "partition_id", Types.IntegerType.get()),
              Types.NestedField.required(SEQUENCE_ID, "sequence", Types.LongType.get()),
              Types.NestedField.required(
                  INGEST_TIME_ID, "ingest_time", Types.TimestampType.withZone()),
              Types.NestedField.required(ERROR_CODE_ID, "error_code", Types.StringType.get()),
              Types.NestedField.optional(ERROR_DETAIL_ID, "error_detail", Types.StringType.get()),
              Types.NestedField.optional(
                  POSITION_ID,
                  "position",
                  Types.IntegerType.get(),
                  "the record's line (NDJSON) or element (JSON array, MessagePack), from 1"),
              Types.NestedField.required(
                  RAW_ID,
                  "raw",
                  Types.BinaryType.get(),
                  "the record's bytes as received, after Content-Encoding was undone"),
              Types.NestedField.required(
                  RAW_TRUNCATED_ID, "raw_truncated", Types.BooleanType.get()),
              Types.NestedField.required(
                  RAW_LENGTH_ID, "raw_length", Types.IntegerType.get(), "before any truncation"),
              Types.NestedField.optional(CONTENT_TYPE_ID, "content_type", Types.StringType.get()),
              Types.NestedField.optional(
                  PRINCIPAL_ID, "principal", Types.StringType.get(), "the sender's token name"),
              Types.NestedField.optional(REQUEST_ID_ID, "request_id", Types.StringType.get()),
              Types.NestedField.optional(
                  IDEMPOTENCY_KEY_ID, "idempotency_key", Types.StringType.get()),
              Types.NestedField.required(REPLAY_COUNT_ID, "replay_count", Types.IntegerType.get()),
              Types.NestedField.optional(
                  REPLAY_OF_ID,
                  "replay_of",
                  Types.StringType.get(),
                  "for a replay that failed again: the dead letter it replayed, partition-sequence")),
          Set.of(PARTITION_ID_ID, SEQUENCE_ID));

  private DeadLetterTable() {}

  public static TableIdentifier identifier(TableSettings s) {
    return TableIdentifier.of(Namespace.of(s.namespace()), s.deadLetterName());
  }

  public static PartitionSpec spec() {
    return PartitionSpec.builderFor(SCHEMA).day("ingest_time").build();
  }

  public static SortOrder sortOrder() {
    return SortOrder.builderFor(SCHEMA).asc("stream").asc("ingest_time").build();
  }

  /** The events table's file settings (compression, file size, commit retries). */
  public static Map<String, String> properties(TableSettings s) {
    return EventsTable.properties(s);
  }

  /**
   * Loads the table, creating it (and its namespace) when absent; safe to race with other nodes.
   */
  public static Table ensure(Catalog catalog, TableSettings s) {
    return TableCreation.ensure(catalog, identifier(s), SCHEMA, spec(), sortOrder(), properties(s));
  }
}
