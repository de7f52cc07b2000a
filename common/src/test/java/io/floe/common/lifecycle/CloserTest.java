package io.floe.common.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CloserTest {
  @Test
  void closesInReverseOrderAndRunsEveryStepDespiteFailures() {
    List<String> closed = new ArrayList<>();
    Closer closer = new Closer();
    closer.onClose(() -> closed.add("first opened"));
    closer.onClose(
        () -> {
          closed.add("second opened");
          throw new IllegalStateException("second failed");
        });
    String third =
        closer.register(
            "third",
            () -> {
              closed.add("third opened");
              throw new IllegalStateException("third failed");
            });
    assertThat(third).isEqualTo("third");
    assertThatThrownBy(closer::close)
        .hasMessage("third failed")
        .satisfies(
            e ->
                assertThat(e.getSuppressed())
                    .singleElement()
                    .satisfies(s -> assertThat(s).hasMessage("second failed")));
    assertThat(closed).containsExactly("third opened", "second opened", "first opened");
  }
}
