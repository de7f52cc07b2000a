package io.floe.catalog.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Metrics;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Table;
import org.apache.iceberg.inmemory.InMemoryCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;

class HandoverCodecTest {
  private static Table table() {
    InMemoryCatalog c = new InMemoryCatalog();
    c.initialize("test", Map.of());
    return EventsTable.ensure(c, TableSettings.defaults());
  }

  private static DataFile withMetrics(PartitionSpec spec, String name, long rows) {
    Metrics metrics =
        new Metrics(
            rows,
            Map.of(1, 400L, 2, 90L),
            Map.of(1, rows, 2, rows),
            Map.of(1, 0L, 2, 3L),
            Map.of(),
            Map.of(1, ByteBuffer.wrap(new byte[] {'a'}), 2, ByteBuffer.wrap(new byte[] {1, 2})),
            Map.of(1, ByteBuffer.wrap(new byte[] {'z'}), 2, ByteBuffer.wrap(new byte[] {3, 4})));
    return DataFiles.builder(spec)
        .withPath("s3://floe/warehouse/events/data/" + name + ".parquet")
        .withFormat(FileFormat.PARQUET)
        .withPartitionPath("event_time_hour=498730")
        .withFileSizeInBytes(123_456)
        .withMetrics(metrics)
        .withSplitOffsets(List.of(4L, 60_000L))
        .withSortOrder(EventsTable.sortOrder())
        .build();
  }

  @Test
  void filesRoundTripWithTheirMetricsAndPartition() throws Exception {
    Table t = table();
    List<DataFile> files = List.of(withMetrics(t.spec(), "a", 1000), withMetrics(t.spec(), "b", 7));

    byte[] bytes = HandoverCodec.encode(files, t.specs());
    List<DataFile> back = HandoverCodec.decode(bytes, t.specs());

    assertThat(back).hasSize(2);
    for (int i = 0; i < files.size(); i++) {
      DataFile want = files.get(i);
      DataFile got = back.get(i);
      assertThat(got.location()).isEqualTo(want.location());
      assertThat(got.format()).isEqualTo(FileFormat.PARQUET);
      assertThat(got.recordCount()).isEqualTo(want.recordCount());
      assertThat(got.fileSizeInBytes()).isEqualTo(want.fileSizeInBytes());
      assertThat(got.specId()).isEqualTo(want.specId());
      assertThat(got.partition().get(0, Integer.class))
          .isEqualTo(want.partition().get(0, Integer.class));
      assertThat(got.columnSizes()).isEqualTo(want.columnSizes());
      assertThat(got.valueCounts()).isEqualTo(want.valueCounts());
      assertThat(got.nullValueCounts()).isEqualTo(want.nullValueCounts());
      assertThat(got.lowerBounds()).isEqualTo(want.lowerBounds());
      assertThat(got.upperBounds()).isEqualTo(want.upperBounds());
      assertThat(got.splitOffsets()).isEqualTo(want.splitOffsets());
    }
    // what a coordinator appends from the decoded files is what the node wrote
    t.newAppend().appendFile(back.get(0)).appendFile(back.get(1)).commit();
    assertThat(t.currentSnapshot().summary()).containsEntry("added-records", "1007");
    try (CloseableIterable<FileScanTask> tasks = t.newScan().planFiles()) {
      for (FileScanTask task : tasks) {
        assertThat(task.file().dataSequenceNumber())
            .isEqualTo(t.currentSnapshot().sequenceNumber());
      }
    }
  }

  @Test
  void badBytesAreRefusedClearly() {
    Table t = table();
    byte[] bytes = HandoverCodec.encode(List.of(withMetrics(t.spec(), "a", 1)), t.specs());
    assertThatThrownBy(() -> HandoverCodec.decode(new byte[] {9, 0, 0}, t.specs()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("version");
    assertThatThrownBy(
            () -> HandoverCodec.decode(Arrays.copyOf(bytes, bytes.length / 2), t.specs()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> HandoverCodec.decode(bytes, Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("partition spec");
    assertThat(HandoverCodec.decode(HandoverCodec.encode(List.of(), t.specs()), t.specs()))
        .isEmpty();
  }
}
