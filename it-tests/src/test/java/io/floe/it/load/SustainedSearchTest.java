package io.floe.it.load;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.it.load.SustainedSearch.Verdict;
import java.util.List;
import org.junit.jupiter.api.Test;

class SustainedSearchTest {
  private static final double LIMIT_MS = 10_000;

  private static Verdict held(double rate) {
    return new Verdict(rate, true, 100, 100, 0, 50, 6_000, 20, 0);
  }

  @Test
  void theHighestRateHeldWinsEvenWhenAHigherStepFailed() {
    List<Verdict> steps =
        List.of(
            held(10),
            held(12.5),
            new Verdict(15.6, true, 100, 100, 0, 50, 14_000, 20, 0),
            new Verdict(19.5, false, 80, 80, 0, 50, 9_000, 15, 0));
    assertThat(SustainedSearch.highestHeld(steps, LIMIT_MS)).isEqualTo(1);
  }

  @Test
  void aStepIsNotHeldWithFailuresUnansweredRequestsSlowAcksOrUnresolvedLag() {
    assertThat(new Verdict(10, true, 100, 99, 1, 50, 6_000, 20, 0).failure(LIMIT_MS))
        .contains("1 failed");
    assertThat(new Verdict(10, true, 100, 97, 0, 50, 6_000, 20, 0).failure(LIMIT_MS))
        .contains("3 of 100");
    assertThat(new Verdict(10, true, 100, 100, 0, 12_000, 6_000, 20, 0).failure(LIMIT_MS))
        .contains("ack p99");
    assertThat(new Verdict(10, true, 100, 100, 0, 50, 6_000, 20, 2).failure(LIMIT_MS))
        .contains("unresolved");
    assertThat(new Verdict(10, true, 100, 100, 0, 50, 0, 0, 0).failure(LIMIT_MS))
        .contains("unresolved");
    assertThat(held(10).failure(LIMIT_MS)).isNull();
  }

  @Test
  void noStepHeldIsMinusOne() {
    assertThat(
            SustainedSearch.highestHeld(
                List.of(new Verdict(10, true, 100, 100, 0, 50, 20_000, 20, 0)), LIMIT_MS))
        .isEqualTo(-1);
  }
}
