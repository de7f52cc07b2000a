package io.floe.catalog.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.catalog.table.FloeTableKeys;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which policy a stream gets from the table's patterns, and what the table may hold. */
class StreamPoliciesTest {
  @Test
  void theMostSpecificPatternDecidesAndNoneMeansReject() {
    StreamPolicies p =
        StreamPolicies.read(
            Map.of(
                FloeTableKeys.streamOnError("*"),
                "per_request",
                FloeTableKeys.streamOnError("orders-*"),
                "dead_letter",
                FloeTableKeys.streamOnError("orders-eu-*"),
                "reject",
                FloeTableKeys.streamOnError("orders-eu-1"),
                "dead_letter",
                FloeTableKeys.COLUMN_PREFIX + "amount",
                "ignored"));
    assertThat(p.of("clicks")).isEqualTo(OnError.PER_REQUEST);
    assertThat(p.of("orders-us")).isEqualTo(OnError.DEAD_LETTER);
    assertThat(p.of("orders-eu-2")).isEqualTo(OnError.REJECT);
    assertThat(p.of("orders-eu-1")).isEqualTo(OnError.DEAD_LETTER);
    assertThat(p.problems()).isEmpty();
    assertThat(StreamPolicies.NONE.of("orders")).isEqualTo(OnError.REJECT);
  }

  @Test
  void aBadPropertyIsAProblemNotAPolicy() {
    StreamPolicies p =
        StreamPolicies.read(
            Map.of(
                FloeTableKeys.streamOnError("orders"), "drop",
                FloeTableKeys.streamOnError("Bad Name"), "reject"));
    assertThat(p.policies()).isEmpty();
    assertThat(p.problems()).hasSize(2);
    assertThat(p.of("orders")).isEqualTo(OnError.REJECT);
  }

  @Test
  void patternsAndValuesAreChecked() {
    assertThat(StreamPolicies.checkPattern("orders-*")).isEqualTo("orders-*");
    assertThat(StreamPolicies.checkPattern("*")).isEqualTo("*");
    assertThatThrownBy(() -> StreamPolicies.checkPattern("or*ders"))
        .hasMessageContaining("stream pattern 'or*ders' is invalid");
    assertThatThrownBy(() -> StreamPolicies.checkPattern("Orders"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(OnError.parse("dead-letter")).isEqualTo(OnError.DEAD_LETTER);
    assertThatThrownBy(() -> OnError.parse("skip"))
        .hasMessageContaining("is not reject, dead_letter or per_request");
  }
}
