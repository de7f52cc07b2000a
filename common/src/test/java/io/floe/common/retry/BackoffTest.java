package io.floe.common.retry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BackoffTest {
  @Test
  void delaysDoubleUpToTheCapWithBoundedJitter() {
    Backoff b = Backoff.exponential(Duration.ofMillis(100), Duration.ofMillis(1000));
    long[] upper = {100, 200, 400, 800, 1000, 1000};
    for (long u : upper) {
      long d = b.nextDelayMillis();
      assertThat(d).isBetween(u - u / 5, u);
    }
    assertThat(b.failures()).isEqualTo(6);
    b.reset();
    assertThat(b.nextDelayMillis()).isBetween(80L, 100L);
  }

  @Test
  void retriesRetryableFailuresUntilSuccess() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    List<Integer> told = new ArrayList<>();
    String result =
        Backoff.exponential(Duration.ofMillis(1), Duration.ofMillis(2))
            .maxAttempts(5)
            .call(
                () -> {
                  if (calls.incrementAndGet() < 3) {
                    throw new IOException("not yet");
                  }
                  return "ok";
                },
                e -> e instanceof IOException,
                (e, attempt, delay) -> told.add(attempt));
    assertThat(result).isEqualTo("ok");
    assertThat(calls).hasValue(3);
    assertThat(told).containsExactly(1, 2);
  }

  @Test
  void aFailureThatIsNotRetryableStopsAtOnce() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(
            () ->
                Backoff.exponential(Duration.ofMillis(1), Duration.ofMillis(2))
                    .call(
                        () -> {
                          calls.incrementAndGet();
                          throw new IllegalArgumentException("bad setting");
                        },
                        e -> e instanceof IOException,
                        (e, a, d) -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bad setting");
    assertThat(calls).hasValue(1);
  }

  @Test
  void givesUpAfterTheAttemptsOrTheTimeout() {
    AtomicInteger calls = new AtomicInteger();
    assertThatThrownBy(
            () ->
                Backoff.exponential(Duration.ofMillis(1), Duration.ofMillis(1))
                    .maxAttempts(4)
                    .call(
                        () -> {
                          calls.incrementAndGet();
                          throw new IOException("down");
                        },
                        e -> true,
                        (e, a, d) -> {}))
        .isInstanceOf(Backoff.GaveUpException.class)
        .hasCauseInstanceOf(IOException.class);
    assertThat(calls).hasValue(4);

    long start = System.nanoTime();
    assertThatThrownBy(
            () ->
                Backoff.exponential(Duration.ofMillis(20), Duration.ofMillis(50))
                    .timeout(Duration.ofMillis(300))
                    .call(
                        () -> {
                          throw new IOException("down");
                        },
                        e -> true,
                        (e, a, d) -> {}))
        .isInstanceOf(Backoff.GaveUpException.class);
    assertThat(System.nanoTime() - start)
        .isBetween(Duration.ofMillis(300).toNanos(), Duration.ofSeconds(5).toNanos());
  }
}
