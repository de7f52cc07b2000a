package io.floe.catalog.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PartitionSetTest {
  private static BitSet bits(List<Integer> ids) {
    BitSet out = new BitSet();
    ids.forEach(out::set);
    return out;
  }

  @Test
  void runsAreWrittenAsRanges() {
    List<Integer> ids = List.of(9, 0, 1, 2, 3, 7, 10, 11);
    assertThat(PartitionSet.encode(ids)).isEqualTo("0-3,7,9-11");
    assertThat(PartitionSet.decode("0-3,7,9-11")).isEqualTo(bits(ids));
    assertThat(PartitionSet.encode(List.of(PartitionSet.MAX_ID))).isEqualTo("1000000");
  }

  @Test
  void aDenseScatteredSetIsABitmapOfAFewHundredBytes() {
    Random random = new Random(11);
    List<Integer> ids = new ArrayList<>();
    for (int p = 0; p < 1000; p++) {
      if (random.nextInt(3) > 0) {
        ids.add(p);
      }
    }
    String encoded = PartitionSet.encode(ids);
    assertThat(encoded).startsWith("~").hasSizeLessThan(200);
    assertThat(PartitionSet.decode(encoded)).isEqualTo(bits(ids));
    assertThat(PartitionSet.contains(encoded, ids.get(5))).isTrue();
    assertThat(PartitionSet.contains(encoded, 1000)).isFalse();
  }

  @Test
  void aFewFarApartIdsStayRanges() {
    assertThat(PartitionSet.encode(List.of(3, 999_999))).isEqualTo("3,999999");
  }

  @Test
  void whatIsNotASetIsRefused() {
    for (String bad :
        List.of(
            "",
            "5,3",
            "1-3,3",
            "4-2",
            "1000001",
            "0-1000001",
            "1,,2",
            "-1",
            "~0:",
            "~0:@@",
            "~999999:Bw",
            "~5:Ag",
            "1 ,2")) {
      assertThatThrownBy(() -> PartitionSet.decode(bad))
          .as("%s", bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(PartitionSet.contains("5,3", 4)).as("taken to name every partition").isTrue();
    assertThatThrownBy(() -> PartitionSet.encode(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
