package io.floe.node.columns;

import io.floe.catalog.columns.ColumnValues;
import io.floe.catalog.columns.ColumnValues.JsonKind;
import io.floe.catalog.columns.NumberText;
import io.floe.node.json.FieldPaths;
import io.floe.node.json.JsonStrings;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.iceberg.util.DateTimeUtil;

/**
 * Turns the JSON text of one value into the Java value Iceberg's generic Parquet writer takes for a
 * column type (and that into the internal one the flush writes), or says why it does not fit. What
 * fits is {@link ColumnValues}'s to decide (the rule book the column suggester uses too, as
 * docs/columns.md states it); this class reads the JSON around it: null, a string's escapes, a
 * string column's text, a list's elements.
 */
final class ValueConverter {
  /** Why a value does not fit its column; cheap (no stack trace), caught by the caller. */
  static final class Mismatch extends RuntimeException {
    Mismatch(String message) {
      super(message, null, false, false);
    }
  }

  private ValueConverter() {}

  /** The value of JSON text {@code [from, to)} for a column of {@code type}, or a Mismatch. */
  static Object convert(byte[] b, int from, int to, Type type) {
    byte first = b[from];
    if (first == 'n') {
      return null;
    }
    switch (type.typeId()) {
      case STRING:
        return first == '"'
            ? JsonStrings.unescape(b, from + 1, to - 1)
            : new String(b, from, to - from, StandardCharsets.UTF_8);
      case LIST:
        return list(b, from, to, (Types.ListType) type, true);
      default:
        break;
    }
    Object v =
        first == '"'
            ? ColumnValues.value(JsonKind.STRING, b, from + 1, to - 1, type)
            : ColumnValues.value(kind(first), b, from, to, type);
    if (v == ColumnValues.DOES_NOT_FIT
        && first == '"'
        && JsonStrings.hasEscape(b, from + 1, to - 1)) {
      byte[] text = unescaped(b, from, to);
      v = ColumnValues.value(JsonKind.STRING, text, 0, text.length, type);
    }
    if (v == ColumnValues.DOES_NOT_FIT) {
      throw mismatch(type, b, from, to);
    }
    return v;
  }

  /**
   * {@code value} as {@link #convert} gives it (Iceberg's generic representation) in Iceberg's
   * internal one, which its internal Parquet writer takes: a date as Integer days, a timestamp as
   * Long micros, the elements of a list likewise; every other type is the same in both.
   */
  static Object internal(Object value, Type type) {
    if (value == null) {
      return null;
    }
    return switch (type.typeId()) {
      case DATE -> DateTimeUtil.daysFromDate((LocalDate) value);
      case TIMESTAMP ->
          value instanceof OffsetDateTime t
              ? DateTimeUtil.microsFromTimestamptz(t)
              : DateTimeUtil.microsFromTimestamp((LocalDateTime) value);
      case LIST -> {
        Type element = ((Types.ListType) type).elementType();
        List<?> in = (List<?>) value;
        List<Object> out = new ArrayList<>(in.size());
        for (Object e : in) {
          out.add(internal(e, element));
        }
        yield out;
      }
      default -> value;
    };
  }

  /**
   * Whether the value fits the type, as {@link #convert} decides, allocating nothing on the common
   * paths (what ingest checks on the event loop).
   */
  static void check(byte[] b, int from, int to, Type type) {
    byte first = b[from];
    if (first == 'n') {
      return;
    }
    boolean fits =
        switch (first) {
          case '"' -> fitsString(b, from, to, type);
          case 't', 'f', '[', '{' -> ColumnValues.fits(kind(first), b, from, to, type);
          default -> ColumnValues.fitsNumber(b, from, to, type);
        };
    if (!fits) {
      throw mismatch(type, b, from, to);
    }
    if (first == '[' && type.typeId() == Type.TypeID.LIST) {
      list(
          b,
          from,
          to,
          (Types.ListType) type,
          false); // the rule book said "an array"; now each element
    }
  }

  /**
   * A string's content is judged as it is in the JSON text; only when that fails and it has an
   * escape is it unescaped (no rule takes a backslash, so the common path never copies).
   */
  private static boolean fitsString(byte[] b, int from, int to, Type type) {
    if (ColumnValues.fitsString(b, from + 1, to - 1, type)) {
      return true;
    }
    if (!JsonStrings.hasEscape(b, from + 1, to - 1)) {
      return false;
    }
    byte[] text = unescaped(b, from, to);
    return ColumnValues.fitsString(text, 0, text.length, type);
  }

  private static byte[] unescaped(byte[] b, int from, int to) {
    return JsonStrings.unescape(b, from + 1, to - 1).getBytes(StandardCharsets.UTF_8);
  }

  private static List<Object> list(
      byte[] b, int from, int to, Types.ListType type, boolean convert) {
    if (b[from] != '[') {
      throw mismatch("an array", b, from, to);
    }
    List<Object> out = convert ? new ArrayList<>() : null;
    int p = FieldPaths.space(b, from + 1);
    if (b[p] == ']') {
      return out;
    }
    Type element = type.elementType();
    for (int n = 1; ; n++) {
      int end = FieldPaths.skip(b, p);
      try {
        if (convert) {
          out.add(convert(b, p, end, element));
        } else {
          check(b, p, end, element);
        }
      } catch (Mismatch e) {
        throw new Mismatch("element " + n + ": " + e.getMessage());
      }
      p = FieldPaths.space(b, end);
      if (b[p] != ',') {
        return out;
      }
      p = FieldPaths.space(b, p + 1);
    }
  }

  private static JsonKind kind(byte first) {
    return switch (first) {
      case '"' -> JsonKind.STRING;
      case 't', 'f' -> JsonKind.BOOLEAN;
      case 'n' -> JsonKind.NULL;
      case '[' -> JsonKind.ARRAY;
      case '{' -> JsonKind.OBJECT;
      default -> JsonKind.NUMBER;
    };
  }

  /** Why the value does not fit: what the column takes, and what was found. */
  private static Mismatch mismatch(Type type, byte[] b, int from, int to) {
    return mismatch(expected(type, b, from, to), b, from, to);
  }

  private static String expected(Type type, byte[] b, int from, int to) {
    return switch (type.typeId()) {
      case BOOLEAN -> "a boolean";
      case INTEGER -> "an int (a whole number in 32 bits)";
      case LONG -> "a long (a whole number in range)";
      case FLOAT -> "a float in range";
      case DOUBLE -> "a double in range";
      case DECIMAL -> {
        Types.DecimalType d = (Types.DecimalType) type;
        String name = "decimal(" + d.precision() + "," + d.scale() + ")";
        byte[] text = b[from] == '"' ? unescaped(b, from, to) : null;
        int places =
            text != null
                ? NumberText.decimalPlaces(text, 0, text.length)
                : NumberText.decimalPlaces(b, from, to);
        if (places < 0) {
          yield "a number for " + name;
        }
        yield places > d.scale()
            ? name + " (at most " + d.scale() + " decimal places)"
            : name + " (at most " + d.precision() + " digits)";
      }
      case DATE -> "a date (YYYY-MM-DD)";
      case TIMESTAMP ->
          ((Types.TimestampType) type).shouldAdjustToUTC()
              ? "a timestamp (RFC 3339 with offset, or epoch milliseconds)"
              : "a timestamp (RFC 3339 with or without offset, or epoch milliseconds)";
      case UUID -> "a uuid (8-4-4-4-12 hex digits)";
      default -> String.valueOf(type);
    };
  }

  private static Mismatch mismatch(String expected, byte[] b, int from, int to) {
    return new Mismatch("expected " + expected + ", found " + JsonStrings.excerpt(b, from, to));
  }
}
