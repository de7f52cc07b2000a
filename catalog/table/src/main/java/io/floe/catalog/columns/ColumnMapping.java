package io.floe.catalog.columns;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.regex.Pattern;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.util.JsonUtil;

/**
 * One typed column: the table column (by field id, so a rename elsewhere does not break it), its
 * type (the table's schema is the truth), the JSON path in the event that fills it, the streams it
 * applies to (empty: all), and what a value of the wrong type does. Stored in the table as the
 * property {@code floe.column.<name>}; a dropped mapping stays there, marked, so that its name is
 * never reused for another path.
 */
public record ColumnMapping(
    String name,
    int fieldId,
    Type type,
    List<String> path,
    List<String> streams,
    OnMismatch onMismatch,
    boolean dropped) {

  /** What happens to an event whose value does not fit the column's type. */
  public enum OnMismatch {
    /**
     * The request is refused (400) at ingest; at flush (an event accepted before the mapping) it is
     * {@link #NULL}.
     */
    REJECT,
    /**
     * The column is null for that event, the payload keeps the value, and the mismatch is counted.
     */
    NULL;

    public String text() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static OnMismatch parse(String text) {
      if (text == null || text.isBlank()) {
        return NULL;
      }
      return switch (text.trim().toLowerCase(Locale.ROOT)) {
        case "reject" -> REJECT;
        case "null" -> NULL;
        default ->
            throw new IllegalArgumentException("on_mismatch '" + text + "' is not reject or null");
      };
    }
  }

  public static final int MAX_PATH_DEPTH = 16;
  private static final Pattern NAME = Pattern.compile("^[a-z][a-z0-9_]{0,127}$");
  private static final Set<String> RESERVED =
      Set.of(
          "stream",
          "partition_id",
          "sequence",
          "event_time",
          "ingest_time",
          "event_key",
          "payload");

  public ColumnMapping {
    path = List.copyOf(path);
    streams = List.copyOf(streams);
  }

  public boolean appliesTo(String stream) {
    return !dropped && (streams.isEmpty() || streams.contains(stream));
  }

  public String pathText() {
    return String.join(".", path);
  }

  public String typeText() {
    return ColumnTypes.format(type);
  }

  public String propertyKey() {
    return FloeTableKeys.column(name);
  }

  public ColumnMapping withDropped(boolean isDropped) {
    return new ColumnMapping(name, fieldId, type, path, streams, onMismatch, isDropped);
  }

  /** The stored form: everything but the name (the key) and the type (the schema's). */
  public String propertyValue() {
    ObjectNode o = JsonUtil.mapper().createObjectNode();
    o.put("field_id", fieldId);
    o.put("path", pathText());
    ArrayNode s = o.putArray("streams");
    streams.forEach(s::add);
    o.put("on_mismatch", onMismatch.text());
    if (dropped) {
      o.put("dropped", true);
    }
    return o.toString();
  }

  /** Reads a stored mapping; {@code type} comes from the schema column with its field id. */
  static ColumnMapping fromProperty(String name, String value, IntFunction<Type> typeOf) {
    JsonNode o;
    try {
      o = JsonUtil.mapper().readTree(value);
    } catch (Exception e) {
      throw new IllegalArgumentException("is not JSON: " + e.getMessage());
    }
    if (o == null
        || !o.isObject()
        || !o.path("field_id").canConvertToInt()
        || !o.path("path").isTextual()) {
      throw new IllegalArgumentException("needs field_id and path");
    }
    int fieldId = o.get("field_id").intValue();
    Type type = typeOf.apply(fieldId);
    if (type == null) {
      throw new IllegalArgumentException(
          "its column (field id " + fieldId + ") is not in the table's schema");
    }
    if (ColumnTypes.format(type) == null) {
      throw new IllegalArgumentException(
          "its column has type " + type + ", which Floe does not fill");
    }
    List<String> streams = new ArrayList<>();
    o.path("streams").forEach(n -> streams.add(n.asText()));
    return new ColumnMapping(
        name,
        fieldId,
        type,
        parsePath(o.get("path").asText()),
        streams,
        OnMismatch.parse(o.path("on_mismatch").asText(null)),
        o.path("dropped").asBoolean(false));
  }

  /** Whether {@code name} is one of Floe's own columns (no mapping may take it). */
  public static boolean isOwnColumn(String name) {
    return RESERVED.contains(name);
  }

  /** Checks a column name a user asks for; the message says what is allowed. */
  public static String checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "column name '"
              + name
              + "' is invalid: use 1-128 characters of a-z, 0-9 and '_', starting with a letter");
    }
    if (RESERVED.contains(name)) {
      throw new IllegalArgumentException(
          "column name '" + name + "' is one of Floe's own columns " + RESERVED);
    }
    return name;
  }

  /** A dotted JSON path ({@code order.amount}) as its field names. */
  public static List<String> parsePath(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("a column needs a JSON path, e.g. user.id");
    }
    List<String> segments = Arrays.asList(text.split("\\.", -1));
    if (segments.size() > MAX_PATH_DEPTH) {
      throw new IllegalArgumentException(
          "path '" + text + "' is deeper than " + MAX_PATH_DEPTH + " fields");
    }
    for (String s : segments) {
      if (s.isEmpty() || s.length() > 256 || s.chars().anyMatch(c -> c < 0x20)) {
        throw new IllegalArgumentException(
            "path '"
                + text
                + "' is invalid: field names separated by '.', each 1-256 characters without control characters");
      }
    }
    return segments;
  }

  /** Checks stream names a mapping is limited to. */
  public static List<String> checkStreams(List<String> streams) {
    for (String s : streams) {
      if (!EventsTable.STREAM_NAME.matcher(s).matches()) {
        throw new IllegalArgumentException(
            "stream name '" + s + "' is invalid: " + EventsTable.STREAM_NAME_RULE);
      }
    }
    return streams.stream().distinct().sorted().toList();
  }
}
