package io.floe.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The dead-letter counter's stream label is bounded: invented stream names cannot grow it. */
class DeadLetterLabelsTest {
  @Test
  void streamsPastTheCapCountAsOther() {
    NodeMetrics metrics = new NodeMetrics();
    for (int i = 0; i < NodeMetrics.MAX_DEAD_LETTER_STREAMS + 500; i++) {
      metrics.deadLettered("s" + i, "malformed_json", 1);
    }
    metrics.deadLettered("s0", "malformed_json", 1);
    String text = new String(metrics.scrape(), StandardCharsets.UTF_8);
    long series = text.lines().filter(l -> l.startsWith("floe_dead_letters_total{")).count();
    assertThat(series).isEqualTo(NodeMetrics.MAX_DEAD_LETTER_STREAMS + 1);
    assertThat(text)
        .contains("floe_dead_letters_total{code=\"malformed_json\",stream=\"_other\"} 500.0")
        .contains("floe_dead_letters_total{code=\"malformed_json\",stream=\"s0\"} 2.0");
  }
}
