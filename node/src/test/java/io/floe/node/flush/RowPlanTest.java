package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.node.event.EventBatch;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RowPlanTest {
  private static final long HOUR_MICROS = 3_600_000_000L;

  /**
   * A batch of stream {@code stream} whose events have the given event times (micros), payload =
   * "stream:i".
   */
  private static EventBatch batch(String stream, long... times) {
    EventBatch.Builder b = new EventBatch.Builder(stream, 42, 64);
    for (int i = 0; i < times.length; i++) {
      byte[] payload = ("\"" + stream + ":" + i + "\"").getBytes(StandardCharsets.UTF_8);
      b.add(times[i], ("k" + i).getBytes(StandardCharsets.UTF_8), payload, 0, payload.length);
    }
    return b.build();
  }

  private static FlushCut cut(long after, EventBatch... batches) {
    List<Long> firsts = new ArrayList<>();
    long next = after + 1;
    long bytes = 0;
    int events = 0;
    for (EventBatch b : batches) {
      firsts.add(next);
      next += b.count();
      bytes += b.sizeBytes();
      events += b.count();
    }
    return new FlushCut(after, next - 1, firsts, List.of(batches), bytes, events);
  }

  private static String key(RowPlan plan, int row) {
    return plan.keyOffset(row) < 0
        ? null
        : new String(
            plan.payloadArray(row),
            plan.keyOffset(row),
            plan.keyLength(row),
            StandardCharsets.UTF_8);
  }

  @Test
  void rowsAreOrderedByPartitionThenStreamThenEventTimeThenSequence() {
    FlushCut cut =
        cut(
            10,
            batch("web", 2 * HOUR_MICROS + 5, HOUR_MICROS + 9, HOUR_MICROS + 9),
            batch("app", HOUR_MICROS + 7, 2 * HOUR_MICROS + 1));
    RowPlan plan = RowPlan.of(cut, micros -> (int) (micros / HOUR_MICROS), 1);

    List<String> written = new ArrayList<>();
    for (RowPlan.Chunk c : plan.chunks()) {
      for (int i = c.from(); i < c.to(); i++) {
        int r = plan.rowAt(i);
        written.add(
            c.partition()
                + " "
                + plan.stream(r)
                + " "
                + plan.eventTimeMicros(r) % HOUR_MICROS
                + " #"
                + plan.sequence(r)
                + " "
                + new String(
                    plan.payloadArray(r),
                    plan.payloadOffset(r),
                    plan.payloadLength(r),
                    StandardCharsets.UTF_8)
                + " "
                + key(plan, r));
      }
    }
    assertThat(written)
        .containsExactly(
            "1 app 7 #14 \"app:0\" k0",
            "1 web 9 #12 \"web:1\" k1",
            "1 web 9 #13 \"web:2\" k2",
            "2 app 1 #15 \"app:1\" k1",
            "2 web 5 #11 \"web:0\" k0");
    assertThat(plan.chunks()).extracting(RowPlan.Chunk::partition).containsExactly(1, 2);
    assertThat(plan.ingestTimeMicros(plan.rowAt(0))).isEqualTo(42);
  }

  @Test
  void aHotPartitionIsSplitOncePerPermitButNotIntoSmallFiles() {
    // 1 GiB of 1 KiB events, 4 permits: four chunks of 256 MiB
    assertThat(RowPlan.chunkRows(1L << 30, 1 << 20, 4)).isEqualTo(1 << 18);
    // 40 MiB: one chunk of at least 32 MiB (not four files of 10 MiB)
    assertThat(RowPlan.chunkRows(40L << 20, 40 << 10, 4)).isEqualTo(32 << 10);
  }

  @Test
  void chunksCoverEachRunContiguouslyInNearEqualParts() {
    List<RowPlan.Chunk> chunks =
        RowPlan.chunks(List.of(new RowPlan.Chunk(0, 10, 7), new RowPlan.Chunk(10, 13, 8)), 4);
    assertThat(chunks)
        .containsExactly(
            new RowPlan.Chunk(0, 3, 7),
            new RowPlan.Chunk(3, 6, 7),
            new RowPlan.Chunk(6, 10, 7),
            new RowPlan.Chunk(10, 13, 8));
  }

  @Test
  void smallCutsStayInOneChunkPerPartitionWhateverThePermits() {
    FlushCut cut = cut(0, batch("s", 1, 2, 3, HOUR_MICROS));
    RowPlan plan = RowPlan.of(cut, micros -> (int) (micros / HOUR_MICROS), 8);
    assertThat(plan.chunks())
        .containsExactly(new RowPlan.Chunk(0, 3, 0), new RowPlan.Chunk(3, 4, 1));
  }

  @Test
  void thePackedSortAndTheComparatorsSortBothGiveTheTableOrder() {
    SplittableRandom random = new SplittableRandom(5);
    // near times and three weeks of them (a packed sort), times from year 1 to 9999 (too wide to
    // pack:
    // the comparator)
    for (long spread :
        new long[] {3 * HOUR_MICROS, 21 * 24 * HOUR_MICROS, 315_537_897_600_000_000L}) {
      List<EventBatch> batches = new ArrayList<>();
      for (int b = 0; b < 40; b++) {
        long[] times = new long[250];
        for (int i = 0; i < times.length; i++) {
          // few distinct times, so that many rows tie on (partition, stream, time)
          times[i] = -62_135_596_800_000_000L + spread / 7 * random.nextInt(8);
        }
        batches.add(batch("s" + random.nextInt(3), times));
      }
      RowPlan plan =
          RowPlan.of(
              cut(100, batches.toArray(EventBatch[]::new)),
              micros -> (int) Math.floorDiv(micros, HOUR_MICROS),
              1);
      assertThat(plan.packed())
          .as("packed with a spread of %d", spread)
          .isEqualTo(spread < 1L << 45);
      List<Integer> seen = new ArrayList<>();
      for (int i = 0; i < 10_000; i++) {
        seen.add(plan.rowAt(i));
        if (i == 0) {
          continue;
        }
        int a = plan.rowAt(i - 1);
        int r = plan.rowAt(i);
        long pa = Math.floorDiv(plan.eventTimeMicros(a), HOUR_MICROS);
        long pr = Math.floorDiv(plan.eventTimeMicros(r), HOUR_MICROS);
        int c = Long.compare(pa, pr);
        if (c == 0) {
          c = plan.stream(a).compareTo(plan.stream(r));
        }
        if (c == 0) {
          c = Long.compare(plan.eventTimeMicros(a), plan.eventTimeMicros(r));
        }
        if (c == 0) {
          c = Long.compare(plan.sequence(a), plan.sequence(r));
        }
        assertThat(c).as("row %d before row %d", a, r).isNegative();
      }
      assertThat(seen).doesNotHaveDuplicates().hasSize(10_000);
    }
  }

  @Test
  void rowsNotIndexedInSequenceOrderAreSortedByTheirSequences() {
    EventBatch later = batch("s", 5, 5);
    EventBatch earlier = batch("s", 5, 5);
    FlushCut cut =
        new FlushCut(
            9,
            21,
            List.of(20L, 10L),
            List.of(later, earlier),
            later.sizeBytes() + earlier.sizeBytes(),
            4);
    RowPlan plan = RowPlan.of(cut, micros -> 0, 1);
    assertThat(plan.packed()).isFalse();
    List<Long> sequences = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      sequences.add(plan.sequence(plan.rowAt(i)));
    }
    assertThat(sequences).containsExactly(10L, 11L, 20L, 21L);
  }
}
