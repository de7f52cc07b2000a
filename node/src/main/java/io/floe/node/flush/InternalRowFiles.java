package io.floe.node.flush;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.SortOrder;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.parquet.InternalWriter;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.FileWriterFactory;
import org.apache.iceberg.parquet.Parquet;

/**
 * Parquet data files of {@link EventRow}s, written with Iceberg's internal-model writer: a
 * timestamp goes to Parquet as the micros it is stored as, where the generic model builds an {@code
 * OffsetDateTime} per value only for the writer to turn it back into micros. Table properties,
 * metrics configuration and sort order as the table has them; data files only (Floe writes no
 * deletes).
 */
final class InternalRowFiles implements FileWriterFactory<StructLike> {
  private final Table table;
  private final Schema schema;
  private final SortOrder sortOrder;
  private final Map<String, String> writerProperties;

  InternalRowFiles(Table table, Schema schema, Map<String, String> writerProperties) {
    this.table = table;
    this.schema = schema;
    this.sortOrder = table.sortOrder();
    this.writerProperties = Map.copyOf(writerProperties);
  }

  @Override
  public DataWriter<StructLike> newDataWriter(
      EncryptedOutputFile file, PartitionSpec spec, StructLike partition) {
    try {
      return Parquet.writeData(file)
          .forTable(table)
          .schema(schema)
          .setAll(writerProperties)
          .withSpec(spec)
          .withPartition(partition)
          .withKeyMetadata(file.keyMetadata())
          .withSortOrder(sortOrder)
          .createWriterFunc(InternalWriter::createWriter)
          .overwrite()
          .build();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public EqualityDeleteWriter<StructLike> newEqualityDeleteWriter(
      EncryptedOutputFile file, PartitionSpec spec, StructLike partition) {
    throw new UnsupportedOperationException("Floe writes no delete files");
  }

  @Override
  public PositionDeleteWriter<StructLike> newPositionDeleteWriter(
      EncryptedOutputFile file, PartitionSpec spec, StructLike partition) {
    throw new UnsupportedOperationException("Floe writes no delete files");
  }
}
