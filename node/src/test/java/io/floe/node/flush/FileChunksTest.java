package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class FileChunksTest {
  private static FlushCut cut(long bytes, int events) {
    return new FlushCut(0, events, List.of(), List.of(), bytes, events);
  }

  @Test
  void aHotPartitionIsSplitOncePerPermitButNotIntoSmallFiles() {
    // 1 GiB of 1 KiB events, 4 permits: four chunks of 256 MiB
    assertThat(TableFileWriter.chunkRows(cut(1L << 30, 1 << 20), 4)).isEqualTo(1 << 18);
    // 40 MiB: one chunk of at least 32 MiB (not four files of 10 MiB)
    assertThat(TableFileWriter.chunkRows(cut(40L << 20, 40 << 10), 4)).isEqualTo(32 << 10);
  }

  @Test
  void chunksCoverEachRangeContiguouslyInNearEqualParts() {
    List<int[]> chunks = TableFileWriter.chunks(List.of(new int[] {0, 10}, new int[] {10, 13}), 4);
    assertThat(chunks).containsExactly(
        new int[] {0, 3}, new int[] {3, 6}, new int[] {6, 10}, new int[] {10, 13});
  }
}
