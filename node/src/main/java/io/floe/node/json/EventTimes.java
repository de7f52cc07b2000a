package io.floe.node.json;

import io.floe.catalog.columns.DateTimeText;
import java.nio.charset.StandardCharsets;

/**
 * Parsing of event times into epoch microseconds, with the range Iceberg timestamps allow: the rule
 * of a timestamptz column ({@link DateTimeText}), so an event's time and its typed columns agree.
 */
public final class EventTimes {
  /** 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z in epoch milliseconds. */
  static final long MIN_MILLIS = DateTimeText.MIN_EPOCH_MILLIS;

  static final long MAX_MILLIS = DateTimeText.MAX_EPOCH_MILLIS;

  private EventTimes() {}

  /** RFC 3339 text (e.g. {@code 2026-11-23T10:15:30.123Z}) to epoch micros, or throws a message. */
  public static long parseRfc3339(String text) {
    byte[] b = text.getBytes(StandardCharsets.UTF_8);
    long micros = DateTimeText.rfc3339Micros(b, 0, b.length);
    if (micros == DateTimeText.NOT_A_TIME) {
      throw new IllegalArgumentException(
          "'"
              + abbreviate(text)
              + "' is not an RFC 3339 timestamp with offset in years 1..9999"
              + " (e.g. 2026-11-23T10:15:30Z)");
    }
    return micros;
  }

  /**
   * {@link #parseRfc3339(String)} of UTF-8 text {@code [from, to)}, without a String unless the
   * text is refused (for the message).
   */
  public static long parseRfc3339(byte[] b, int from, int to) {
    long micros = usualRfc3339(b, from, to);
    return micros != Long.MIN_VALUE
        ? micros
        : parseRfc3339(new String(b, from, to - from, StandardCharsets.UTF_8));
  }

  /**
   * Epoch micros of RFC 3339 text with offset, or Long.MIN_VALUE for anything else (also out of
   * range).
   */
  public static long usualRfc3339(byte[] b, int from, int to) {
    return DateTimeText.rfc3339Micros(b, from, to);
  }

  /** Epoch milliseconds to epoch micros, or throws a message when out of range. */
  public static long fromEpochMillis(long millis) {
    if (millis < MIN_MILLIS || millis > MAX_MILLIS) {
      throw new IllegalArgumentException(millis + " epoch milliseconds is outside years 1..9999");
    }
    return millis * 1000L;
  }

  /** At most 64 characters of {@code text}, for an error message. */
  public static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 61) + "...";
  }
}
