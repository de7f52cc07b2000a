package io.floe.router;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Reading Prometheus text as the nodes and the catalog service write it, and quantiles. */
class PromTextTest {
  private static final String TEXT =
      """
      # HELP floe_node_events_accepted_total Events
      # TYPE floe_node_events_accepted_total counter
      floe_node_events_accepted_total 1500.0
      floe_maintenance_lease_holder{holder="pid@host \\"a\\", b"} 1.0
      floe_node_request_duration_seconds_bucket{le="0.001"} 10
      floe_node_request_duration_seconds_bucket{le="0.01"} 90
      floe_node_request_duration_seconds_bucket{le="+Inf"} 100
      floe_x{a="1"} 2.0 1700000000000
      broken{a="1" 3
      also broken
      """;

  @Test
  void readsSamplesLabelsAndSkipsWhatItCannotRead() {
    PromText t = PromText.parse(TEXT);
    assertThat(t.sum("floe_node_events_accepted_total")).isEqualTo(1500.0);
    assertThat(t.all("floe_maintenance_lease_holder").get(0).labels())
        .containsEntry("holder", "pid@host \"a\", b");
    assertThat(t.sum("floe_x")).as("a timestamp after the value").isEqualTo(2.0);
    assertThat(t.sum("broken")).isNaN();
    assertThat(t.buckets("floe_node_request_duration_seconds"))
        .containsEntry(0.001, 10.0)
        .containsEntry(Double.POSITIVE_INFINITY, 100.0);
  }

  @Test
  void quantilesOfWhatWasObservedBetweenTwoScrapes() {
    TreeMap<Double, Double> before =
        PromText.parse(TEXT).buckets("floe_node_request_duration_seconds");
    TreeMap<Double, Double> now = new TreeMap<>(before);
    now.put(0.001, 10.0 + 50);
    now.put(0.01, 90.0 + 100);
    now.put(Double.POSITIVE_INFINITY, 100.0 + 100);
    // 100 new observations: 50 up to 1 ms, 50 between 1 and 10 ms
    assertThat(PromText.quantile(0.5, now, before)).isCloseTo(0.001, within(1e-9));
    assertThat(PromText.quantile(0.99, now, before))
        .isCloseTo(0.001 + 0.009 * 49 / 50, within(1e-9));
    assertThat(PromText.quantile(0.99, before, before)).as("nothing observed").isNaN();
    assertThat(PromText.quantile(0.5, before, new TreeMap<>()))
        .isCloseTo(0.001 + 0.009 * 40 / 80, within(1e-9));
  }
}
