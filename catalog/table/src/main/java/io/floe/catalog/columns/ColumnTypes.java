package io.floe.catalog.columns;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The Iceberg types a typed column may have, written as users type them ({@code long}, {@code
 * decimal(10,2)}, {@code list<string>}), and which changes of type are widenings Iceberg allows in
 * place (int to long, float to double, a decimal's precision raised, the same for a list's
 * elements). Everything else about a column's type is fixed once it exists.
 */
public final class ColumnTypes {
  private static final Pattern DECIMAL =
      Pattern.compile("decimal\\(\\s*(\\d{1,2})\\s*,\\s*(\\d{1,2})\\s*\\)");
  private static final Pattern LIST = Pattern.compile("list<\\s*(.+?)\\s*>");
  static final String OFFERED =
      "boolean, int, long, float, double, decimal(p,s), string, date, timestamp, timestamptz, uuid, or list<one of these>";

  private ColumnTypes() {}

  /** The type for {@code text}, or an IllegalArgumentException that lists what is offered. */
  public static Type parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a column needs a type: " + OFFERED);
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    Matcher list = LIST.matcher(t);
    if (list.matches()) {
      Type element = primitive(list.group(1), text);
      // the element id is a placeholder: Iceberg assigns real ids when the column is added
      return Types.ListType.ofOptional(1, element);
    }
    return primitive(t, text);
  }

  private static Type primitive(String t, String original) {
    Matcher d = DECIMAL.matcher(t);
    if (d.matches()) {
      int precision = Integer.parseInt(d.group(1));
      int scale = Integer.parseInt(d.group(2));
      if (precision < 1 || precision > 38 || scale > precision) {
        throw new IllegalArgumentException(
            "'" + original + "': a decimal needs 1 <= precision <= 38 and scale <= precision");
      }
      return Types.DecimalType.of(precision, scale);
    }
    return switch (t) {
      case "boolean" -> Types.BooleanType.get();
      case "int" -> Types.IntegerType.get();
      case "long" -> Types.LongType.get();
      case "float" -> Types.FloatType.get();
      case "double" -> Types.DoubleType.get();
      case "string" -> Types.StringType.get();
      case "date" -> Types.DateType.get();
      case "timestamp" -> Types.TimestampType.withoutZone();
      case "timestamptz" -> Types.TimestampType.withZone();
      case "uuid" -> Types.UUIDType.get();
      default ->
          throw new IllegalArgumentException(
              "'" + original + "' is not a column type Floe fills: use " + OFFERED);
    };
  }

  /** The type as {@link #parse} reads it, or null when Floe does not fill columns of this type. */
  public static String format(Type type) {
    if (type instanceof Types.ListType list) {
      String element = formatPrimitive(list.elementType());
      return element == null ? null : "list<" + element + ">";
    }
    return formatPrimitive(type);
  }

  private static String formatPrimitive(Type type) {
    return switch (type.typeId()) {
      case BOOLEAN -> "boolean";
      case INTEGER -> "int";
      case LONG -> "long";
      case FLOAT -> "float";
      case DOUBLE -> "double";
      case STRING -> "string";
      case DATE -> "date";
      case TIMESTAMP ->
          ((Types.TimestampType) type).shouldAdjustToUTC() ? "timestamptz" : "timestamp";
      case UUID -> "uuid";
      case DECIMAL -> {
        Types.DecimalType d = (Types.DecimalType) type;
        yield "decimal(" + d.precision() + "," + d.scale() + ")";
      }
      default -> null;
    };
  }

  /** Whether a column of type {@code from} can become {@code to} in place (equal counts). */
  public static boolean widens(Type from, Type to) {
    if (from instanceof Types.ListType a) {
      return to instanceof Types.ListType b && widensPrimitive(a.elementType(), b.elementType());
    }
    return !(to instanceof Types.ListType) && widensPrimitive(from, to);
  }

  private static boolean widensPrimitive(Type from, Type to) {
    if (from.equals(to)) {
      return true;
    }
    if (from.typeId() == Type.TypeID.INTEGER && to.typeId() == Type.TypeID.LONG) {
      return true;
    }
    if (from.typeId() == Type.TypeID.FLOAT && to.typeId() == Type.TypeID.DOUBLE) {
      return true;
    }
    return from instanceof Types.DecimalType a
        && to instanceof Types.DecimalType b
        && a.scale() == b.scale()
        && b.precision() >= a.precision();
  }
}
