package io.floe.catalog.columns;

import java.time.Month;
import java.time.Year;

/**
 * The date and time rules of {@link ColumnValues}, on UTF-8 text, in the range Iceberg's timestamps
 * allow (years 1..9999); also the rule for an event's time. Each is a byte-level parser of one
 * fixed form that allocates nothing:
 *
 * <ul>
 *   <li>a date: {@code YYYY-MM-DD};
 *   <li>RFC 3339 with offset: {@code YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)}, where {@code
 *       T} may be {@code t} or a space, {@code Z} may be {@code z}, the fraction has 1 to 9 digits
 *       (those past microseconds are dropped) and the offset is at most 18:00;
 *   <li>a date-time without offset: the same without the offset, read as UTC.
 * </ul>
 *
 * A time is in range when its instant (after the offset) is within 0001-01-01T00:00:00Z and
 * 9999-12-31T23:59:59.999999Z; epoch milliseconds likewise.
 */
public final class DateTimeText {
  /** What the time parsers return for text that does not fit. */
  public static final long NOT_A_TIME = Long.MIN_VALUE;

  /** What {@link #epochDay} returns for text that is not a date. */
  public static final int NOT_A_DATE = Integer.MIN_VALUE;

  /** 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999Z in epoch milliseconds. */
  public static final long MIN_EPOCH_MILLIS = -62_135_596_800_000L;

  public static final long MAX_EPOCH_MILLIS = 253_402_300_799_999L;

  private DateTimeText() {}

  /** Days since 1970-01-01 of {@code YYYY-MM-DD} (years 0001..9999), or NOT_A_DATE. */
  public static int epochDay(byte[] b, int from, int to) {
    if (to - from != 10) {
      return NOT_A_DATE;
    }
    long days = days(b, from);
    return days == NOT_A_TIME ? NOT_A_DATE : (int) days;
  }

  /** Epoch microseconds of RFC 3339 text with offset, or NOT_A_TIME (also out of range). */
  public static long rfc3339Micros(byte[] b, int from, int to) {
    return micros(b, from, to, true);
  }

  /** Epoch microseconds of a date-time without offset read as UTC, or NOT_A_TIME. */
  public static long localDateTimeMicros(byte[] b, int from, int to) {
    return micros(b, from, to, false);
  }

  /** Epoch milliseconds in range as epoch microseconds, or NOT_A_TIME. */
  public static long epochMillisMicros(long millis) {
    return millis < MIN_EPOCH_MILLIS || millis > MAX_EPOCH_MILLIS ? NOT_A_TIME : millis * 1000L;
  }

  private static long micros(byte[] b, int from, int to, boolean offset) {
    if (to - from < 19) {
      return NOT_A_TIME;
    }
    long days = days(b, from);
    int hour = number(b, from + 11, 2);
    int minute = number(b, from + 14, 2);
    int second = number(b, from + 17, 2);
    byte t = b[from + 10];
    if (days == NOT_A_TIME
        || (t != 'T' && t != 't' && t != ' ')
        || b[from + 13] != ':'
        || b[from + 16] != ':'
        || hour < 0
        || hour > 23
        || minute < 0
        || minute > 59
        || second < 0
        || second > 59) {
      return NOT_A_TIME;
    }
    int p = from + 19;
    long micros = 0;
    if (p < to && b[p] == '.') {
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
        return NOT_A_TIME;
      }
      for (int i = digits; i < 6; i++) {
        micros *= 10;
      }
    }
    int offsetSeconds;
    if (!offset) {
      if (p != to) {
        return NOT_A_TIME;
      }
      offsetSeconds = 0;
    } else if (p == to - 1 && (b[p] == 'Z' || b[p] == 'z')) {
      offsetSeconds = 0;
    } else if (p == to - 6 && (b[p] == '+' || b[p] == '-') && b[p + 3] == ':') {
      int oh = number(b, p + 1, 2);
      int om = number(b, p + 4, 2);
      if (oh < 0 || om < 0 || om > 59 || oh * 60 + om > 18 * 60) {
        return NOT_A_TIME;
      }
      offsetSeconds = (b[p] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    } else {
      return NOT_A_TIME;
    }
    long seconds = days * 86_400L + hour * 3600L + minute * 60L + second - offsetSeconds;
    if (seconds * 1000 < MIN_EPOCH_MILLIS || seconds * 1000 > MAX_EPOCH_MILLIS) {
      return NOT_A_TIME;
    }
    return seconds * 1_000_000L + micros;
  }

  /**
   * Days since 1970-01-01 of the {@code YYYY-MM-DD} at {@code at} (years 1..9999), or NOT_A_TIME.
   */
  private static long days(byte[] b, int at) {
    int year = number(b, at, 4);
    int month = number(b, at + 5, 2);
    int day = number(b, at + 8, 2);
    if (year < 1
        || b[at + 4] != '-'
        || b[at + 7] != '-'
        || month < 1
        || month > 12
        || day < 1
        || day > Month.of(month).length(Year.isLeap(year))) {
      return NOT_A_TIME;
    }
    return daysFromCivil(year, month, day);
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
}
