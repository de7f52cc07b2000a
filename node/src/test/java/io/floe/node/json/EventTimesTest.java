package io.floe.node.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The byte-level RFC 3339 fast path agrees with the general parser: same micros, same refusals. */
class EventTimesTest {
  @Test
  void theFastPathAgreesWithTheGeneralParser() {
    Random random = new Random(5);
    for (int i = 0; i < 20_000; i++) {
      String text =
          String.format(
              "%04d-%02d-%02d%s%02d:%02d:%02d%s%s",
              random.nextInt(10_000),
              random.nextInt(14),
              random.nextInt(33),
              List.of("T", "t", " ").get(random.nextInt(3)),
              random.nextInt(25),
              random.nextInt(61),
              random.nextInt(61),
              List.of("", ".1", ".123", ".123456", ".123456789", ".1234567891", ".")
                  .get(random.nextInt(7)),
              List.of("Z", "z", "+01:00", "-05:30", "+18:00", "+19:00", "+0100", "", "+01:00:00")
                  .get(random.nextInt(9)));
      assertAgree(text);
    }
    for (String edge :
        List.of(
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:30:00+01:00",
            "9999-12-31T23:59:59.999999Z",
            "9999-12-31T23:59:59-01:00",
            "2024-02-29T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1969-12-31T23:59:59.5Z",
            "2026-12-03T10:15:30.123456+01:00",
            "2026-12-03T10:15Z",
            "x026-12-03T10:15:30Z")) {
      assertAgree(edge);
    }
  }

  @Test
  void anEventsOwnTimeKeepsItsLenientForms() {
    long expected = EventTimes.parseRfc3339("2026-12-03T10:15:00Z");
    for (String lenient :
        List.of(
            "2026-12-03T10:15Z",
            " 2026-12-03T10:15:00Z ",
            "2026-12-03 10:15:00z",
            "2026-12-03t11:15:00+01:00:00")) {
      byte[] b = lenient.getBytes(StandardCharsets.UTF_8);
      assertThat(EventTimes.parseRfc3339(b, 0, b.length)).as(lenient).isEqualTo(expected);
    }
  }

  private static void assertAgree(String text) {
    byte[] b = ("\"" + text + "\"").getBytes(StandardCharsets.UTF_8);
    Long expected;
    try {
      expected = EventTimes.parseRfc3339(text);
    } catch (IllegalArgumentException e) {
      expected = null;
    }
    long fast = EventTimes.usualRfc3339(b, 1, b.length - 1);
    if (fast != Long.MIN_VALUE) {
      assertThat(fast).as(text).isEqualTo(expected);
    }
    if (expected == null) {
      assertThatThrownBy(() -> EventTimes.parseRfc3339(b, 1, b.length - 1))
          .as(text)
          .isInstanceOf(IllegalArgumentException.class);
    } else {
      assertThat(EventTimes.parseRfc3339(b, 1, b.length - 1)).as(text).isEqualTo(expected);
    }
  }
}
