package io.floe.node.json;

import io.floe.catalog.columns.DateTimeText;
import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoField;

/**
 * Parsing of event times into epoch microseconds, with the range Iceberg timestamps allow. The fast
 * path is the rule of a timestamptz column ({@link DateTimeText}); what it refuses goes to the
 * general parser, which keeps the leniency event times always had.
 */
public final class EventTimes {
  /** 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z in epoch milliseconds. */
  static final long MIN_MILLIS = DateTimeText.MIN_EPOCH_MILLIS;

  static final long MAX_MILLIS = DateTimeText.MAX_EPOCH_MILLIS;

  private EventTimes() {}

  /**
   * RFC 3339 text (e.g. {@code 2026-11-23T10:15:30.123Z}) to epoch micros, or throws a message. An
   * event's own time is read as leniently as before the rule book: surrounding spaces, a space or
   * lower-case {@code t} between date and time, no seconds, an offset with seconds; the strict form
   * a timestamptz column takes ({@link DateTimeText}) is the fast path and always agrees.
   */
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
        throw new IllegalArgumentException("'" + abbreviate(text) + "' is outside years 1..9999");
      }
      return Math.addExact(
          Math.multiplyExact(seconds, 1_000_000L), t.get(ChronoField.MICRO_OF_SECOND));
    } catch (DateTimeException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "'"
              + abbreviate(text)
              + "' is not an RFC 3339 timestamp with offset in years 1..9999"
              + " (e.g. 2026-11-23T10:15:30Z)");
    }
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
    long micros = DateTimeText.epochMillisMicros(millis);
    if (micros == DateTimeText.NOT_A_TIME) {
      throw new IllegalArgumentException(millis + " epoch milliseconds is outside years 1..9999");
    }
    return micros;
  }

  /** At most 64 characters of {@code text}, for an error message. */
  public static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 61) + "...";
  }
}
