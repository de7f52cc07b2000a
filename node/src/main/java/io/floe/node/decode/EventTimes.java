package io.floe.node.decode;

import java.time.DateTimeException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoField;

/** Parsing of event times into epoch microseconds, with the range Iceberg timestamps allow. */
public final class EventTimes {
  /** 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z in epoch milliseconds. */
  static final long MIN_MILLIS = -62_135_596_800_000L;

  static final long MAX_MILLIS = 253_402_300_799_999L;

  private EventTimes() {}

  /** RFC 3339 text (e.g. {@code 2026-11-23T10:15:30.123Z}) to epoch micros, or throws a message. */
  public static long parseRfc3339(String text) {
    String s = text.trim();
    if (s.length() > 10 && (s.charAt(10) == ' ' || s.charAt(10) == 't')) {
      s = s.substring(0, 10) + 'T' + s.substring(11);
    }
    if (s.endsWith("z")) {
      s = s.substring(0, s.length() - 1) + 'Z';
    }
    try {
      OffsetDateTime t = OffsetDateTime.parse(s, DateTimeFormatter.ISO_OFFSET_DATE_TIME);
      long seconds = t.toEpochSecond();
      if (seconds * 1000 < MIN_MILLIS || seconds * 1000 > MAX_MILLIS) {
        throw new IllegalArgumentException("'" + text + "' is outside years 1..9999");
      }
      return Math.addExact(Math.multiplyExact(seconds, 1_000_000L), t.get(ChronoField.MICRO_OF_SECOND));
    } catch (DateTimeException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "'" + abbreviate(text) + "' is not an RFC 3339 timestamp with offset (e.g. 2026-11-23T10:15:30Z)");
    }
  }

  /** Epoch milliseconds to epoch micros, or throws a message when out of range. */
  public static long fromEpochMillis(long millis) {
    if (millis < MIN_MILLIS || millis > MAX_MILLIS) {
      throw new IllegalArgumentException(millis + " epoch milliseconds is outside years 1..9999");
    }
    return millis * 1000L;
  }

  static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 61) + "...";
  }
}
