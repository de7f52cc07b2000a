package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.table.EventsTable;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.LongToIntFunction;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.transforms.Transform;
import org.junit.jupiter.api.Test;

class TableFileWriterTest {
  private static final long HOUR = 3_600_000_000L;

  /** Event times around the epoch, hour and day edges, and random ones from 1900 to 2200. */
  private static List<Long> times() {
    List<Long> out = new ArrayList<>();
    SplittableRandom random = new SplittableRandom(11);
    for (long edge : new long[] {0, HOUR, 24 * HOUR, 1_795_399_200_000_000L, -HOUR, -24 * HOUR}) {
      for (long d = -2; d <= 2; d++) {
        out.add(edge + d);
      }
    }
    for (int i = 0; i < 200_000; i++) {
      out.add(random.nextLong(-2_208_988_800_000_000L, 7_258_118_400_000_000L));
    }
    return out;
  }

  @Test
  void partitionValuesAreIcebergsForEveryTransformOfEventTime() {
    for (String transform : List.of("hour", "day", "month", "year")) {
      PartitionSpec.Builder b = PartitionSpec.builderFor(EventsTable.SCHEMA);
      PartitionSpec spec =
          switch (transform) {
            case "hour" -> b.hour("event_time").build();
            case "day" -> b.day("event_time").build();
            case "month" -> b.month("event_time").build();
            default -> b.year("event_time").build();
          };
      @SuppressWarnings("unchecked")
      Transform<Long, Integer> iceberg =
          (Transform<Long, Integer>) spec.fields().get(0).transform();
      var bound = iceberg.bind(spec.schema().findType(EventsTable.EVENT_TIME_ID));
      LongToIntFunction ours = TableFileWriter.partitionFunction(spec);
      for (long micros : times()) {
        assertThat(ours.applyAsInt(micros))
            .as("%s of %d", transform, micros)
            .isEqualTo(bound.apply(micros));
      }
    }
  }
}
