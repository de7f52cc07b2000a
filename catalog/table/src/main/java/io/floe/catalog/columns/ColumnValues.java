package io.floe.catalog.columns;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.UUID;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.DateTimeUtil;

/**
 * Which JSON values fit which column type, and the Java value Iceberg's generic writer takes for
 * each: the one rule book that the nodes (filling columns at flush, checking {@code reject} columns
 * at ingest) and the column suggester decide with, as docs/columns.md "What fits a type" states it.
 *
 * <p>A value is given as its kind and its text: for a number the JSON number text, for a string its
 * content (unescaped, UTF-8). JSON {@code null} fits every type; a string column takes every value;
 * booleans take {@code true}/{@code false}; int, long, float and double take JSON numbers in range
 * ({@link NumberText}); a decimal takes a number, or a string holding one, that fits without
 * rounding; date, timestamptz and uuid take strings of one form ({@link DateTimeText}), timestamps
 * also whole epoch milliseconds; a {@code timestamp} (no zone) takes RFC 3339 with offset (as UTC)
 * or without; a list takes an array whose elements each fit its element type.
 *
 * <p>Deciding costs a linear scan of the text and allocates nothing; only values that fit are
 * computed (so a number no type holds, {@code 1e-60000000} or a million digits, costs one scan). A
 * string with an escape is unescaped by the caller; no rule takes a backslash, so a caller may
 * judge a string's raw JSON text first and unescape only when that fails.
 */
public final class ColumnValues {
  /** The kinds of JSON value. */
  public enum JsonKind {
    NULL,
    BOOLEAN,
    NUMBER,
    STRING,
    ARRAY,
    OBJECT
  }

  /** What {@link #value} returns for a value that does not fit the type. */
  public static final Object DOES_NOT_FIT =
      new Object() {
        @Override
        public String toString() {
          return "(does not fit)";
        }
      };

  /** Hex digit values by byte, -1 for a byte that is not one. */
  private static final byte[] HEX = new byte[256];

  static {
    Arrays.fill(HEX, (byte) -1);
    for (int c = '0'; c <= '9'; c++) {
      HEX[c] = (byte) (c - '0');
    }
    for (int c = 'a'; c <= 'f'; c++) {
      HEX[c] = (byte) (c - 'a' + 10);
      HEX[c - 'a' + 'A'] = (byte) (c - 'a' + 10);
    }
  }

  private ColumnValues() {}

  /**
   * Whether a value of this kind and text fits a column of {@code type}. For a list type this says
   * only whether the value is an array: each element must fit the element type, which the caller
   * checks as it walks them.
   */
  public static boolean fits(JsonKind kind, byte[] text, int from, int to, Type type) {
    Type.TypeID id = type.typeId();
    return switch (kind) {
      case NULL -> true;
      case NUMBER -> fitsNumber(text, from, to, type);
      case STRING -> fitsString(text, from, to, type);
      case BOOLEAN -> id == Type.TypeID.BOOLEAN || id == Type.TypeID.STRING;
      case ARRAY -> id == Type.TypeID.LIST || id == Type.TypeID.STRING;
      case OBJECT -> id == Type.TypeID.STRING;
    };
  }

  /** {@link #fits} for a JSON number's text. */
  public static boolean fitsNumber(byte[] text, int from, int to, Type type) {
    return switch (type.typeId()) {
      case STRING -> true;
      case INTEGER -> NumberText.fitsInt(text, from, to);
      case LONG -> NumberText.fitsLong(text, from, to);
      case FLOAT -> NumberText.fitsFloat(text, from, to);
      case DOUBLE -> NumberText.fitsDouble(text, from, to);
      case DECIMAL -> decimalFits(text, from, to, (Types.DecimalType) type);
      case TIMESTAMP -> epochMillisMicros(text, from, to) != DateTimeText.NOT_A_TIME;
      default -> false;
    };
  }

  /** {@link #fits} for a JSON string's content. */
  public static boolean fitsString(byte[] text, int from, int to, Type type) {
    return switch (type.typeId()) {
      case STRING -> true;
      case DECIMAL -> decimalFits(text, from, to, (Types.DecimalType) type);
      case DATE -> DateTimeText.epochDay(text, from, to) != DateTimeText.NOT_A_DATE;
      case TIMESTAMP -> textMicros(text, from, to, withZone(type)) != DateTimeText.NOT_A_TIME;
      case UUID -> isUuid(text, from, to);
      default -> false;
    };
  }

  private static boolean decimalFits(byte[] text, int from, int to, Types.DecimalType type) {
    return NumberText.fitsDecimal(text, from, to, type.precision(), type.scale());
  }

  /**
   * The value Iceberg's generic Parquet writer takes for a value of a primitive type other than
   * string (Integer, Long, Float, Double, BigDecimal, Boolean, LocalDate, LocalDateTime,
   * OffsetDateTime, UUID), or {@link #DOES_NOT_FIT} exactly when {@link #fits} is false. One parse
   * of the text, for the flush path.
   */
  public static Object value(JsonKind kind, byte[] text, int from, int to, Type type) {
    if (kind == JsonKind.NULL) {
      return null;
    }
    switch (type.typeId()) {
      case BOOLEAN:
        return kind == JsonKind.BOOLEAN ? Boolean.valueOf(text[from] == 't') : DOES_NOT_FIT;
      case INTEGER:
        {
          // Long.MIN_VALUE is no int: it stands for "not a whole number in a long" here
          long v = kind == JsonKind.NUMBER ? NumberText.wholeOr(text, from, to, Long.MIN_VALUE) : 0;
          return kind == JsonKind.NUMBER && v == (int) v ? Integer.valueOf((int) v) : DOES_NOT_FIT;
        }
      case LONG:
        {
          Long v = kind == JsonKind.NUMBER ? NumberText.longOrNull(text, from, to) : null;
          return v != null ? v : DOES_NOT_FIT;
        }
      case FLOAT:
        return kind == JsonKind.NUMBER && NumberText.fitsFloat(text, from, to)
            ? Float.valueOf((float) NumberText.parseDouble(text, from, to))
            : DOES_NOT_FIT;
      case DOUBLE:
        return kind == JsonKind.NUMBER && NumberText.fitsDouble(text, from, to)
            ? Double.valueOf(NumberText.parseDouble(text, from, to))
            : DOES_NOT_FIT;
      case DECIMAL:
        {
          Types.DecimalType d = (Types.DecimalType) type;
          BigDecimal v =
              kind == JsonKind.NUMBER || kind == JsonKind.STRING
                  ? NumberText.decimalOrNull(text, from, to, d.precision(), d.scale())
                  : null;
          return v != null ? v : DOES_NOT_FIT;
        }
      case DATE:
        {
          int days =
              kind == JsonKind.STRING
                  ? DateTimeText.epochDay(text, from, to)
                  : DateTimeText.NOT_A_DATE;
          return days != DateTimeText.NOT_A_DATE ? DateTimeUtil.dateFromDays(days) : DOES_NOT_FIT;
        }
      case TIMESTAMP:
        {
          long micros = timestampMicros(kind, text, from, to, withZone(type));
          if (micros == DateTimeText.NOT_A_TIME) {
            return DOES_NOT_FIT;
          }
          return withZone(type)
              ? DateTimeUtil.timestamptzFromMicros(micros)
              : DateTimeUtil.timestampFromMicros(micros);
        }
      case UUID:
        {
          UUID u = kind == JsonKind.STRING ? uuidOrNull(text, from, to) : null;
          return u != null ? u : DOES_NOT_FIT;
        }
      default:
        throw new IllegalArgumentException(type + " has no single value");
    }
  }

  /**
   * Epoch microseconds of a timestamp value (RFC 3339 text with offset; without one too when {@code
   * withZone} is false; a whole number of epoch milliseconds), or NOT_A_TIME.
   */
  private static long timestampMicros(
      JsonKind kind, byte[] text, int from, int to, boolean withZone) {
    return switch (kind) {
      case NUMBER -> epochMillisMicros(text, from, to);
      case STRING -> textMicros(text, from, to, withZone);
      default -> DateTimeText.NOT_A_TIME;
    };
  }

  private static long epochMillisMicros(byte[] text, int from, int to) {
    // Long.MIN_VALUE is outside the range of epoch milliseconds, so it stands for "not whole" too
    return DateTimeText.epochMillisMicros(NumberText.wholeOr(text, from, to, Long.MIN_VALUE));
  }

  private static long textMicros(byte[] text, int from, int to, boolean withZone) {
    long micros = DateTimeText.rfc3339Micros(text, from, to);
    return micros != DateTimeText.NOT_A_TIME || withZone
        ? micros
        : DateTimeText.localDateTimeMicros(text, from, to);
  }

  private static boolean withZone(Type type) {
    return ((Types.TimestampType) type).shouldAdjustToUTC();
  }

  /** Whether the text is a uuid's canonical form: 8-4-4-4-12 hex digits, either case. */
  public static boolean isUuid(byte[] b, int from, int to) {
    return dashes(b, from, to)
        && (hex(b, from, 8) | hex(b, from + 9, 4) | hex(b, from + 14, 4)) >= 0
        && (hex(b, from + 19, 4) | hex(b, from + 24, 12)) >= 0;
  }

  /** The uuid of its canonical text, or null: one pass. */
  private static UUID uuidOrNull(byte[] b, int from, int to) {
    if (!dashes(b, from, to)) {
      return null;
    }
    long a = hex(b, from, 8);
    long c = hex(b, from + 9, 4);
    long d = hex(b, from + 14, 4);
    long e = hex(b, from + 19, 4);
    long f = hex(b, from + 24, 12);
    return (a | c | d | e | f) < 0 ? null : new UUID(a << 32 | c << 16 | d, e << 48 | f);
  }

  /** 36 characters with the dashes of 8-4-4-4-12. */
  private static boolean dashes(byte[] b, int from, int to) {
    return to - from == 36
        && b[from + 8] == '-'
        && b[from + 13] == '-'
        && b[from + 18] == '-'
        && b[from + 23] == '-';
  }

  /** {@code count} hex digits at {@code at} as a number, or -1. */
  private static long hex(byte[] b, int at, int count) {
    long v = 0;
    for (int i = at; i < at + count; i++) {
      int h = HEX[b[i] & 0xff];
      if (h < 0) {
        return -1;
      }
      v = v << 4 | h;
    }
    return v;
  }
}
