package io.floe.catalog.columns;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The number rules of {@link ColumnValues}, on the ASCII text of a JSON number ({@code
 * -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?}; a string column's "numeric string" is the same
 * text). Every rule is decided by the value, not the spelling ({@code 2.0}, {@code 2}, {@code
 * 0.2e1} are the same whole number), without arithmetic on its digits: a value is judged by how
 * many digits it has before the point and how many decimal places, counted in one pass over the
 * text and its exponent (saturated, so {@code 1e-2147483649} is just "too many places"). Only a
 * value that fits is computed, from at most as many digits as its type holds, so no text costs more
 * than a linear scan — a million digits or an exponent of sixty million included. The fit checks
 * allocate nothing.
 */
public final class NumberText {
  /** A shape for text that is not a JSON number. */
  private static final long NOT_A_NUMBER = -1;

  /** Exponents beyond this are as good as infinite, and the powers of ten stay within a long. */
  private static final long EXPONENT_CAP = 1L << 40;

  /** -|value| of a whole number that does not fit a long. */
  private static final long OVERFLOW = 1;

  /** Digits before the point above which a double (float) is infinite, and at which it may be. */
  private static final int DOUBLE_DIGITS = 309;

  private static final int FLOAT_DIGITS = 39;

  private NumberText() {}

  /** Whether {@code [from, to)} is a JSON number. */
  public static boolean isNumber(byte[] b, int from, int to) {
    return shape(b, from, to) != NOT_A_NUMBER;
  }

  /**
   * Digits of the value before the decimal point, leading zeros not counted (0 for a value under
   * 1), or -1 when the text is not a JSON number; at most Integer.MAX_VALUE.
   */
  public static int integerDigits(byte[] b, int from, int to) {
    long shape = shape(b, from, to);
    return shape == NOT_A_NUMBER ? -1 : integerDigits(shape);
  }

  /**
   * Decimal places of the value, trailing zeros not counted (0 for a whole number), or -1 when the
   * text is not a JSON number; at most Integer.MAX_VALUE.
   */
  public static int decimalPlaces(byte[] b, int from, int to) {
    long shape = shape(b, from, to);
    return shape == NOT_A_NUMBER ? -1 : decimalPlaces(shape);
  }

  /**
   * Whether the value fits {@code decimal(precision, scale)} without rounding: at most {@code
   * scale} decimal places and {@code precision - scale} digits before the point.
   */
  public static boolean fitsDecimal(byte[] b, int from, int to, int precision, int scale) {
    long shape = shape(b, from, to);
    return shape != NOT_A_NUMBER
        && decimalPlaces(shape) <= scale
        && integerDigits(shape) <= precision - scale;
  }

  /** The value at {@code scale}, as {@code new BigDecimal(text).setScale(scale)} would give it. */
  public static BigDecimal decimalValue(byte[] b, int from, int to, int precision, int scale) {
    BigDecimal v = decimalOrNull(b, from, to, precision, scale);
    if (v == null) {
      throw new IllegalArgumentException(
          excerpt(b, from, to) + " does not fit decimal(" + precision + "," + scale + ")");
    }
    return v;
  }

  /** {@link #decimalValue}, or null when the value does not fit. */
  static BigDecimal decimalOrNull(byte[] b, int from, int to, int precision, int scale) {
    long shape = shape(b, from, to);
    if (shape == NOT_A_NUMBER
        || decimalPlaces(shape) > scale
        || integerDigits(shape) > precision - scale) {
      return null;
    }
    if (shape == 0) {
      return BigDecimal.valueOf(0, scale);
    }
    int integer = integerDigits(shape);
    char[] digits = new char[integer + scale];
    window(b, from, to, integer - 1, -scale, digits);
    boolean negative = b[from] == '-';
    if (digits.length <= 18) {
      long unscaled = 0;
      for (char c : digits) {
        unscaled = unscaled * 10 + (c - '0');
      }
      return BigDecimal.valueOf(negative ? -unscaled : unscaled, scale);
    }
    BigInteger unscaled = new BigInteger(new String(digits));
    return new BigDecimal(negative ? unscaled.negate() : unscaled, scale);
  }

  /** Whether the value is whole and within a long ({@code 7}, {@code 2.0}, {@code 1e3}). */
  public static boolean fitsLong(byte[] b, int from, int to) {
    return inLong(negatedWhole(b, from, to), negative(b, from, to));
  }

  /** Whether the value is whole and within an int. */
  public static boolean fitsInt(byte[] b, int from, int to) {
    long negated = negatedWhole(b, from, to);
    return negated != OVERFLOW
        && negated >= (negative(b, from, to) ? Integer.MIN_VALUE : -Integer.MAX_VALUE);
  }

  /** The whole value, or an IllegalArgumentException when it does not fit a long. */
  public static long longValue(byte[] b, int from, int to) {
    Long v = longOrNull(b, from, to);
    if (v == null) {
      throw new IllegalArgumentException(excerpt(b, from, to) + " is not a whole number in range");
    }
    return v;
  }

  /** The whole value boxed (as the flush path keeps it), or null when it does not fit a long. */
  static Long longOrNull(byte[] b, int from, int to) {
    long negated = negatedWhole(b, from, to);
    boolean negative = negative(b, from, to);
    return inLong(negated, negative) ? (negative ? negated : -negated) : null;
  }

  /**
   * The whole value, or {@code otherwise} when it does not fit a long (for callers to whom that
   * value means "does not fit"), allocating nothing.
   */
  static long wholeOr(byte[] b, int from, int to, long otherwise) {
    long negated = negatedWhole(b, from, to);
    boolean negative = negative(b, from, to);
    return inLong(negated, negative) ? (negative ? negated : -negated) : otherwise;
  }

  private static boolean negative(byte[] b, int from, int to) {
    return from < to && b[from] == '-';
  }

  private static boolean inLong(long negated, boolean negative) {
    return negated != OVERFLOW && (negative || negated != Long.MIN_VALUE);
  }

  /** Whether the value is within a double's range (it is rounded to the nearest double). */
  public static boolean fitsDouble(byte[] b, int from, int to) {
    long shape = shape(b, from, to);
    if (shape == NOT_A_NUMBER) {
      return false;
    }
    int integer = integerDigits(shape);
    return integer < DOUBLE_DIGITS
        || (integer == DOUBLE_DIGITS && Double.isFinite(parseDouble(b, from, to)));
  }

  /** Whether the value, rounded to a double and then to a float, is within a float's range. */
  public static boolean fitsFloat(byte[] b, int from, int to) {
    long shape = shape(b, from, to);
    if (shape == NOT_A_NUMBER) {
      return false;
    }
    int integer = integerDigits(shape);
    return integer < FLOAT_DIGITS
        || (integer == FLOAT_DIGITS && Float.isFinite((float) parseDouble(b, from, to)));
  }

  static double parseDouble(byte[] b, int from, int to) {
    return Double.parseDouble(new String(b, from, to - from, StandardCharsets.US_ASCII));
  }

  /**
   * The shape of a JSON number: its {@link #integerDigits} in the high half, its {@link
   * #decimalPlaces} in the low half (0 for zero), or NOT_A_NUMBER. One pass, nothing computed from
   * the digits but where the first and last non-zero ones stand.
   */
  private static long shape(byte[] b, int from, int to) {
    int p = from < to && b[from] == '-' ? from + 1 : from;
    if (p >= to || !digit(b[p])) {
      return NOT_A_NUMBER;
    }
    int first = -1; // the first and last non-zero digits of the mantissa
    int last = -1;
    if (b[p] == '0') {
      p++;
    } else {
      first = p;
      while (p < to && digit(b[p])) {
        if (b[p] != '0') {
          last = p;
        }
        p++;
      }
    }
    int point = p;
    if (p < to && b[p] == '.') {
      p++;
      int fraction = p;
      while (p < to && digit(b[p])) {
        if (b[p] != '0') {
          first = first < 0 ? p : first;
          last = p;
        }
        p++;
      }
      if (p == fraction) {
        return NOT_A_NUMBER;
      }
    }
    if (p < to) {
      return exponentShape(b, p, to, first, last, point);
    }
    if (first < 0) {
      return 0; // zero, however written
    }
    return (long) (first < point ? point - first : 0) << 32 | (last > point ? last - point : 0);
  }

  /**
   * The shape of a number whose mantissa ends at {@code p} with something more (an exponent, or
   * what makes it no JSON number): kept apart so that the usual plain number is read inline.
   */
  private static long exponentShape(byte[] b, int p, int to, int first, int last, int point) {
    if (b[p] != 'e' && b[p] != 'E') {
      return NOT_A_NUMBER;
    }
    p++;
    boolean negative = p < to && b[p] == '-';
    if (p < to && (b[p] == '-' || b[p] == '+')) {
      p++;
    }
    int start = p;
    long exponent = 0;
    while (p < to && digit(b[p])) {
      exponent = Math.min(exponent * 10 + (b[p] - '0'), EXPONENT_CAP);
      p++;
    }
    if (p == start || p != to) {
      return NOT_A_NUMBER;
    }
    if (first < 0) {
      return 0;
    }
    exponent = negative ? -exponent : exponent;
    long integer = Math.max(0, power(first, point, exponent) + 1);
    long places = Math.max(0, -power(last, point, exponent));
    return Math.min(integer, Integer.MAX_VALUE) << 32 | Math.min(places, Integer.MAX_VALUE);
  }

  private static int integerDigits(long shape) {
    return (int) (shape >>> 32);
  }

  private static int decimalPlaces(long shape) {
    return (int) shape;
  }

  /**
   * The power of ten of the mantissa digit at {@code i}, the point (or its place) at {@code point}.
   */
  private static long power(int i, int point, long exponent) {
    return (i < point ? point - 1 - i : point - i) + exponent;
  }

  /**
   * -|value| of a whole number within [-2^63, 2^63], or OVERFLOW (also for a fraction and for text
   * that is not a JSON number). Plain digits take one loop; any other form is bounded by its shape
   * first (at most 19 digits, no places) and then read digit by digit.
   */
  private static long negatedWhole(byte[] b, int from, int to) {
    int p = from < to && b[from] == '-' ? from + 1 : from;
    if (to - p >= 1 && to - p <= 18 && (to - p == 1 || b[p] != '0')) {
      long v = 0;
      int i = p;
      while (i < to && digit(b[i])) {
        v = v * 10 - (b[i++] - '0');
      }
      if (i == to) {
        return v;
      }
    }
    return negatedWholeDigitByDigit(b, from, to, p);
  }

  private static long negatedWholeDigitByDigit(byte[] b, int from, int to, int p) {
    long shape = shape(b, from, to);
    if (shape == NOT_A_NUMBER || decimalPlaces(shape) != 0 || integerDigits(shape) > 19) {
      return OVERFLOW;
    }
    if (shape == 0) {
      return 0;
    }
    long top = integerDigits(shape) - 1;
    int point = pointOf(b, p, to);
    long power = power(p, point, exponentOf(b, point, to));
    long v = 0;
    for (int i = p; i < to && power >= 0; i++) {
      byte c = b[i];
      if (c == '.') {
        continue;
      }
      if (c == 'e' || c == 'E') {
        break;
      }
      if (power <= top) {
        v = timesTenMinus(v, c - '0');
        if (v == OVERFLOW) {
          return OVERFLOW;
        }
      }
      power--;
    }
    for (power = Math.min(power, top); power >= 0; power--) {
      v = timesTenMinus(v, 0);
      if (v == OVERFLOW) {
        return OVERFLOW;
      }
    }
    return v;
  }

  /** {@code v * 10 - d} for v <= 0, or OVERFLOW below Long.MIN_VALUE. */
  private static long timesTenMinus(long v, int d) {
    if (v < Long.MIN_VALUE / 10 || v * 10 < Long.MIN_VALUE + d) {
      return OVERFLOW;
    }
    return v * 10 - d;
  }

  /**
   * Writes the digits of |value| at powers {@code top} down to {@code bottom} into {@code out}, for
   * a value known to fit that window (its other digits are zeros).
   */
  private static void window(byte[] b, int from, int to, long top, long bottom, char[] out) {
    Arrays.fill(out, '0');
    int p = b[from] == '-' ? from + 1 : from;
    int point = pointOf(b, p, to);
    long power = power(p, point, exponentOf(b, point, to));
    for (int i = p; i < to && power >= bottom; i++) {
      byte c = b[i];
      if (c == '.') {
        continue;
      }
      if (c == 'e' || c == 'E') {
        break;
      }
      if (power <= top) {
        out[(int) (top - power)] = (char) c;
      }
      power--;
    }
  }

  /** Where the integer digits starting at {@code p} end (the point, an exponent, or the end). */
  private static int pointOf(byte[] b, int p, int to) {
    while (p < to && digit(b[p])) {
      p++;
    }
    return p;
  }

  /** The exponent of a JSON number (saturated), searching from {@code p}. */
  private static long exponentOf(byte[] b, int p, int to) {
    while (p < to && b[p] != 'e' && b[p] != 'E') {
      p++;
    }
    if (p == to) {
      return 0;
    }
    boolean negative = b[++p] == '-';
    if (b[p] == '-' || b[p] == '+') {
      p++;
    }
    long exponent = 0;
    for (; p < to; p++) {
      exponent = Math.min(exponent * 10 + (b[p] - '0'), EXPONENT_CAP);
    }
    return negative ? -exponent : exponent;
  }

  private static boolean digit(byte c) {
    return c >= '0' && c <= '9';
  }

  private static String excerpt(byte[] b, int from, int to) {
    return to - from <= 64
        ? new String(b, from, to - from, StandardCharsets.UTF_8)
        : new String(b, from, 61, StandardCharsets.UTF_8) + "...";
  }
}
