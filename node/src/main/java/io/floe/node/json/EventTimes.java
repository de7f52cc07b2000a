package io.floe.node.json;

import java.nio.charset.StandardCharsets;
import java.time.DateTimeException;
import java.time.Month;
import java.time.OffsetDateTime;
import java.time.Year;
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
      return Math.addExact(
          Math.multiplyExact(seconds, 1_000_000L), t.get(ChronoField.MICRO_OF_SECOND));
    } catch (DateTimeException | ArithmeticException e) {
      throw new IllegalArgumentException(
          "'"
              + abbreviate(text)
              + "' is not an RFC 3339 timestamp with offset (e.g. 2026-11-23T10:15:30Z)");
    }
  }

  /**
   * {@link #parseRfc3339(String)} of UTF-8 text {@code [from, to)}, without a String or a parser
   * for the usual form ({@code YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM)}); any other form takes the
   * general path, which decides.
   */
  public static long parseRfc3339(byte[] b, int from, int to) {
    long micros = usualRfc3339(b, from, to);
    return micros != Long.MIN_VALUE
        ? micros
        : parseRfc3339(new String(b, from, to - from, StandardCharsets.UTF_8));
  }

  /**
   * Epoch micros of the usual RFC 3339 form, or Long.MIN_VALUE for anything else (also out of
   * range).
   */
  public static long usualRfc3339(byte[] b, int from, int to) {
    if (to - from < 20) {
      return Long.MIN_VALUE;
    }
    int year = number(b, from, 4);
    int month = number(b, from + 5, 2);
    int day = number(b, from + 8, 2);
    int hour = number(b, from + 11, 2);
    int minute = number(b, from + 14, 2);
    int second = number(b, from + 17, 2);
    byte t = b[from + 10];
    if (year < 1
        || b[from + 4] != '-'
        || b[from + 7] != '-'
        || (t != 'T' && t != 't' && t != ' ')
        || b[from + 13] != ':'
        || b[from + 16] != ':'
        || month < 1
        || month > 12
        || day < 1
        || day > Month.of(month).length(Year.isLeap(year))
        || hour < 0
        || hour > 23
        || minute < 0
        || minute > 59
        || second < 0
        || second > 59) {
      return Long.MIN_VALUE;
    }
    int p = from + 19;
    long micros = 0;
    if (b[p] == '.') {
      int digits = 0;
      p++;
      while (p < to && b[p] >= '0' && b[p] <= '9') {
        if (digits < 6) {
          micros = micros * 10 + (b[p] - '0');
        }
        digits++;
        p++;
      }
      if (digits == 0 || digits > 9) {
        return Long.MIN_VALUE;
      }
      for (int i = digits; i < 6; i++) {
        micros *= 10;
      }
    }
    int offsetSeconds;
    if (p == to - 1 && (b[p] == 'Z' || b[p] == 'z')) {
      offsetSeconds = 0;
    } else if (p == to - 6 && (b[p] == '+' || b[p] == '-') && b[p + 3] == ':') {
      int oh = number(b, p + 1, 2);
      int om = number(b, p + 4, 2);
      if (oh < 0 || oh > 18 || om < 0 || om > 59) {
        return Long.MIN_VALUE;
      }
      offsetSeconds = (b[p] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else {
      return Long.MIN_VALUE;
    }
    long seconds =
        daysFromCivil(year, month, day) * 86_400L
            + hour * 3600L
            + minute * 60L
            + second
            - offsetSeconds;
    if (seconds * 1000 < MIN_MILLIS || seconds * 1000 > MAX_MILLIS) {
      return Long.MIN_VALUE;
    }
    return seconds * 1_000_000L + micros;
  }

  /** {@code count} ASCII digits at {@code at} as a number, or -1. */
  private static int number(byte[] b, int at, int count) {
    int v = 0;
    for (int i = at; i < at + count; i++) {
      int d = b[i] - '0';
      if (d < 0 || d > 9) {
        return -1;
      }
      v = v * 10 + d;
    }
    return v;
  }

  /** Days since 1970-01-01 of a proleptic Gregorian date (the civil-from-days inverse). */
  private static long daysFromCivil(int year, int month, int day) {
    int y = month <= 2 ? year - 1 : year;
    int era = (y >= 0 ? y : y - 399) / 400;
    int yoe = y - era * 400;
    int doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146_097L + doe - 719_468L;
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
