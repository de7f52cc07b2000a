package io.floe.node.columns;

import io.floe.node.json.EventTimes;
import io.floe.node.json.FieldPaths;
import io.floe.node.json.JsonStrings;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.DateTimeUtil;

/**
 * Turns the JSON text of one value into the Java value Iceberg's generic Parquet writer takes for a
 * column type, or says why it does not fit. JSON {@code null} is null for every type. The rules, as
 * docs/columns.md states them: integers must be whole JSON numbers in range; decimals take a number
 * or a numeric string that fits the precision without rounding; timestamps take RFC 3339 text or
 * integer epoch milliseconds; dates {@code YYYY-MM-DD}; uuids their canonical text; a string column
 * takes a string's text, or any other value's JSON text.
 */
final class ValueConverter {
  /** Why a value does not fit its column; cheap (no stack trace), caught by the caller. */
  static final class Mismatch extends RuntimeException {
    Mismatch(String message) {
      super(message, null, false, false);
    }
  }

  private ValueConverter() {}

  static Object convert(byte[] b, int from, int to, Type type) {
    byte first = b[from];
    if (first == 'n') {
      return null;
    }
    return switch (type.typeId()) {
      case BOOLEAN -> {
        if (first == 't') {
          yield Boolean.TRUE;
        }
        if (first == 'f') {
          yield Boolean.FALSE;
        }
        throw mismatch("a boolean", b, from, to);
      }
      case INTEGER -> {
        long v = whole(b, from, to, "an int");
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
          throw mismatch("an int (32 bits)", b, from, to);
        }
        yield (int) v;
      }
      case LONG -> whole(b, from, to, "a long");
      case FLOAT -> {
        double d = number(b, from, to, "a float");
        float f = (float) d;
        if (Float.isInfinite(f)) {
          throw mismatch("a float in range", b, from, to);
        }
        yield f;
      }
      case DOUBLE -> number(b, from, to, "a double");
      case DECIMAL -> decimal(b, from, to, (Types.DecimalType) type);
      case STRING ->
          first == '"'
              ? JsonStrings.unescape(b, from + 1, to - 1)
              : new String(b, from, to - from, StandardCharsets.UTF_8);
      case DATE -> {
        try {
          yield LocalDate.parse(
              text(b, from, to, "a date (YYYY-MM-DD)"), DateTimeFormatter.ISO_LOCAL_DATE);
        } catch (DateTimeParseException e) {
          throw mismatch("a date (YYYY-MM-DD)", b, from, to);
        }
      }
      case TIMESTAMP -> timestamp(b, from, to, ((Types.TimestampType) type).shouldAdjustToUTC());
      case UUID -> {
        String s = text(b, from, to, "a uuid");
        if (s.length() != 36
            || s.charAt(8) != '-'
            || s.charAt(13) != '-'
            || s.charAt(18) != '-'
            || s.charAt(23) != '-') {
          throw mismatch("a uuid (8-4-4-4-12 hex digits)", b, from, to);
        }
        try {
          yield UUID.fromString(s);
        } catch (IllegalArgumentException e) {
          throw mismatch("a uuid (8-4-4-4-12 hex digits)", b, from, to);
        }
      }
      case LIST -> list(b, from, to, (Types.ListType) type);
      default -> throw new IllegalStateException("Floe does not fill columns of type " + type);
    };
  }

  private static List<Object> list(byte[] b, int from, int to, Types.ListType type) {
    if (b[from] != '[') {
      throw mismatch("an array", b, from, to);
    }
    List<Object> out = new ArrayList<>();
    int p = FieldPaths.space(b, from + 1);
    if (b[p] == ']') {
      return out;
    }
    Type element = type.elementType();
    while (true) {
      int end = FieldPaths.skip(b, p);
      try {
        out.add(convert(b, p, end, element));
      } catch (Mismatch e) {
        throw new Mismatch("element " + (out.size() + 1) + ": " + e.getMessage());
      }
      p = FieldPaths.space(b, end);
      if (b[p] != ',') {
        return out;
      }
      p = FieldPaths.space(b, p + 1);
    }
  }

  /** A JSON number that is a whole value, without going through text when it is plain digits. */
  private static long whole(byte[] b, int from, int to, String expected) {
    byte first = b[from];
    if (first != '-' && (first < '0' || first > '9')) {
      throw mismatch(expected, b, from, to);
    }
    int p = first == '-' ? from + 1 : from;
    if (to - p <= 18) {
      long v = 0;
      boolean plain = p < to;
      for (int i = p; i < to && plain; i++) {
        byte c = b[i];
        plain = c >= '0' && c <= '9';
        v = v * 10 + (c - '0');
      }
      if (plain) {
        return first == '-' ? -v : v;
      }
    }
    try {
      return new BigDecimal(new String(b, from, to - from, StandardCharsets.US_ASCII))
          .longValueExact();
    } catch (ArithmeticException | NumberFormatException e) {
      throw mismatch(expected + " (a whole number in range)", b, from, to);
    }
  }

  private static double number(byte[] b, int from, int to, String expected) {
    byte first = b[from];
    if (first != '-' && (first < '0' || first > '9')) {
      throw mismatch(expected, b, from, to);
    }
    return Double.parseDouble(new String(b, from, to - from, StandardCharsets.US_ASCII));
  }

  private static BigDecimal decimal(byte[] b, int from, int to, Types.DecimalType type) {
    String expected = "decimal(" + type.precision() + "," + type.scale() + ")";
    String text;
    if (b[from] == '"') {
      text = JsonStrings.unescape(b, from + 1, to - 1).trim();
    } else if (b[from] == '-' || (b[from] >= '0' && b[from] <= '9')) {
      text = new String(b, from, to - from, StandardCharsets.US_ASCII);
    } else {
      throw mismatch("a number for " + expected, b, from, to);
    }
    BigDecimal v;
    try {
      v = new BigDecimal(text);
    } catch (NumberFormatException e) {
      throw mismatch("a number for " + expected, b, from, to);
    }
    try {
      v = v.setScale(type.scale(), RoundingMode.UNNECESSARY);
    } catch (ArithmeticException e) {
      throw mismatch(expected + " (at most " + type.scale() + " decimal places)", b, from, to);
    }
    if (v.precision() > type.precision()) {
      throw mismatch(expected + " (at most " + type.precision() + " digits)", b, from, to);
    }
    return v;
  }

  private static Object timestamp(byte[] b, int from, int to, boolean withZone) {
    String expected =
        withZone
            ? "a timestamp (RFC 3339 with offset, or epoch milliseconds)"
            : "a timestamp (ISO date-time, or epoch milliseconds)";
    long micros;
    if (b[from] == '"') {
      String s = null;
      try {
        micros =
            JsonStrings.hasEscape(b, from + 1, to - 1)
                ? EventTimes.parseRfc3339(s = JsonStrings.unescape(b, from + 1, to - 1))
                : EventTimes.parseRfc3339(b, from + 1, to - 1);
      } catch (IllegalArgumentException withoutOffset) {
        if (withZone) {
          throw mismatch(expected, b, from, to);
        }
        s = s != null ? s : JsonStrings.unescape(b, from + 1, to - 1);
        try {
          return LocalDateTime.parse(
              s.length() > 10 && s.charAt(10) == ' '
                  ? s.substring(0, 10) + 'T' + s.substring(11)
                  : s,
              DateTimeFormatter.ISO_LOCAL_DATE_TIME);
        } catch (DateTimeParseException e) {
          throw mismatch(expected, b, from, to);
        }
      }
    } else {
      try {
        micros = EventTimes.fromEpochMillis(whole(b, from, to, expected));
      } catch (IllegalArgumentException e) {
        throw mismatch(expected, b, from, to);
      }
    }
    return withZone
        ? DateTimeUtil.timestamptzFromMicros(micros)
        : DateTimeUtil.timestampFromMicros(micros);
  }

  /**
   * Whether the value fits the type, as {@link #convert} decides, allocating nothing on the common
   * paths (what ingest checks on the event loop): a string column takes anything; whole numbers and
   * plain decimals are checked on their digits.
   */
  static void check(byte[] b, int from, int to, Type type) {
    if (b[from] == 'n') {
      return;
    }
    switch (type.typeId()) {
      case STRING -> {}
      case LONG -> whole(b, from, to, "a long");
      case TIMESTAMP -> {
        boolean usual =
            b[from] == '"'
                && ((Types.TimestampType) type).shouldAdjustToUTC()
                && EventTimes.usualRfc3339(b, from + 1, to - 1) != Long.MIN_VALUE;
        if (!usual) {
          convert(b, from, to, type);
        }
      }
      case DECIMAL -> {
        if (!plainDecimalFits(b, from, to, (Types.DecimalType) type)) {
          decimal(b, from, to, (Types.DecimalType) type);
        }
      }
      default -> convert(b, from, to, type);
    }
  }

  /**
   * A plain JSON number ({@code -?digits[.digits]}) within precision and scale; false also when not
   * plain.
   */
  private static boolean plainDecimalFits(byte[] b, int from, int to, Types.DecimalType type) {
    int p = b[from] == '-' ? from + 1 : from;
    int integer = 0;
    int fraction = 0;
    boolean leading = true;
    boolean dot = false;
    int trailingZeros = 0;
    for (int i = p; i < to; i++) {
      byte c = b[i];
      if (c == '.' && !dot && i > p) {
        dot = true;
        continue;
      }
      if (c < '0' || c > '9') {
        return false;
      }
      if (dot) {
        fraction++;
        trailingZeros = c == '0' ? trailingZeros + 1 : 0;
      } else if (!(leading && c == '0')) {
        leading = false;
        integer++;
      }
    }
    int scale = fraction - trailingZeros;
    return p < to
        && b[to - 1] != '.'
        && scale <= type.scale()
        && integer + type.scale() <= type.precision();
  }

  private static String text(byte[] b, int from, int to, String expected) {
    if (b[from] != '"') {
      throw mismatch(expected, b, from, to);
    }
    return JsonStrings.unescape(b, from + 1, to - 1);
  }

  private static Mismatch mismatch(String expected, byte[] b, int from, int to) {
    return new Mismatch("expected " + expected + ", found " + JsonStrings.excerpt(b, from, to));
  }
}
