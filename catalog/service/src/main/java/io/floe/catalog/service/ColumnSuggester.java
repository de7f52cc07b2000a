package io.floe.catalog.service;

import com.fasterxml.jackson.databind.JsonNode;
import io.floe.catalog.columns.ColumnMapping;
import io.floe.catalog.columns.ColumnMappings;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.util.JsonUtil;

/**
 * Proposes typed columns from what the table holds, as a help (nothing is declared by it): reads
 * the payloads of the newest data files (of one stream, or all) up to a sample size, walks each
 * event's fields (nested objects too, up to a depth), and reports per path the narrowest type all
 * its non-null values fit and how often it is present ({@code fill_rate}, of the sampled events).
 */
final class ColumnSuggester {
  private static final int MAX_DEPTH = 4;
  private static final int MAX_PATHS = 500;
  private static final Pattern UUID_TEXT =
      Pattern.compile(
          "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final Pattern DECIMAL_TEXT = Pattern.compile("-?\\d{1,30}(\\.\\d{1,18})?");

  /** What one value can be read as. */
  private enum Kind {
    BOOLEAN,
    LONG,
    DOUBLE,
    TIMESTAMPTZ,
    DATE,
    UUID,
    DECIMAL,
    STRING
  }

  /** What a path's values were, over the sample. */
  private static final class Seen {
    long present;
    final EnumSet<Kind> kinds = EnumSet.noneOf(Kind.class);
    boolean array;
    boolean scalar;
    int integerDigits;
    int scale;
    String example;
  }

  private ColumnSuggester() {}

  static JsonObject suggest(Table table, String stream, int sample) {
    Map<String, Seen> seen = new TreeMap<>();
    int events = 0;
    if (table.currentSnapshot() != null) {
      Schema projection = table.schema().select("stream", "payload");
      List<FileScanTask> files = new ArrayList<>();
      try (CloseableIterable<FileScanTask> tasks =
          (stream == null
                  ? table.newScan()
                  : table.newScan().filter(Expressions.equal("stream", stream)))
              .planFiles()) {
        tasks.forEach(files::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      files.sort(
          Comparator.comparingLong((FileScanTask t) -> t.file().dataSequenceNumber()).reversed());
      for (FileScanTask task : files) {
        try (CloseableIterable<Record> rows =
            Parquet.read(table.io().newInputFile(task.file().location()))
                .project(projection)
                .createReaderFunc(
                    fileSchema -> GenericParquetReaders.buildReader(projection, fileSchema))
                .build()) {
          for (Record r : rows) {
            if (stream != null && !stream.equals(r.getField("stream"))) {
              continue;
            }
            JsonNode event = JsonUtil.mapper().readTree((String) r.getField("payload"));
            walk(event, "", 0, seen);
            if (++events >= sample) {
              break;
            }
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
        if (events >= sample) {
          break;
        }
      }
    }
    Map<String, String> mapped = new HashMap<>();
    for (ColumnMapping m : ColumnMappings.read(table).active()) {
      mapped.put(m.pathText(), m.name());
    }
    int total = events;
    List<JsonObject> out = new ArrayList<>();
    seen.forEach(
        (path, s) -> {
          String type = type(s);
          if (type == null) {
            return;
          }
          JsonObject o =
              new JsonObject()
                  .put("path", path)
                  .put("column", columnName(path))
                  .put("type", type)
                  .put("fill_rate", Math.round(1000.0 * s.present / total) / 1000.0)
                  .put("example", s.example);
          if (mapped.containsKey(path)) {
            o.put("mapped_as", mapped.get(path));
          }
          out.add(o);
        });
    out.sort(
        Comparator.comparingDouble((JsonObject o) -> -o.getDouble("fill_rate"))
            .thenComparing(o -> o.getString("path")));
    return new JsonObject()
        .put("sampled_events", total)
        .put("suggestions", new JsonArray(new ArrayList<>(out)));
  }

  private static void walk(JsonNode node, String prefix, int depth, Map<String, Seen> seen) {
    if (node == null || !node.isObject()) {
      return;
    }
    node.fields()
        .forEachRemaining(
            e -> {
              String name = e.getKey();
              if (name.isEmpty() || name.contains(".")) {
                return; // a dotted path cannot address it
              }
              String path = prefix.isEmpty() ? name : prefix + "." + name;
              JsonNode v = e.getValue();
              if (v.isObject()) {
                if (depth + 1 < MAX_DEPTH) {
                  walk(v, path, depth + 1, seen);
                }
                return;
              }
              if (v.isNull()) {
                return;
              }
              if (!seen.containsKey(path) && seen.size() >= MAX_PATHS) {
                return;
              }
              Seen s = seen.computeIfAbsent(path, p -> new Seen());
              s.present++;
              if (s.example == null) {
                String text = v.toString();
                s.example = text.length() <= 40 ? text : text.substring(0, 37) + "...";
              }
              if (v.isArray()) {
                s.array = true;
                v.forEach(
                    element -> {
                      if (!element.isNull()) {
                        kind(element, s);
                      }
                    });
              } else {
                s.scalar = true;
                kind(v, s);
              }
            });
  }

  private static void kind(JsonNode v, Seen s) {
    if (v.isBoolean()) {
      s.kinds.add(Kind.BOOLEAN);
    } else if (v.isIntegralNumber() && v.canConvertToLong()) {
      s.kinds.add(Kind.LONG);
    } else if (v.isNumber()) {
      s.kinds.add(Kind.DOUBLE);
    } else if (v.isTextual()) {
      s.kinds.add(textKind(v.asText(), s));
    } else {
      s.kinds.add(Kind.STRING);
    }
  }

  private static Kind textKind(String t, Seen s) {
    if (UUID_TEXT.matcher(t).matches()) {
      return Kind.UUID;
    }
    if (DECIMAL_TEXT.matcher(t).matches()) {
      int dot = t.indexOf('.');
      int digits = (dot < 0 ? t.length() : dot) - (t.startsWith("-") ? 1 : 0);
      s.integerDigits = Math.max(s.integerDigits, digits);
      s.scale = Math.max(s.scale, dot < 0 ? 0 : t.length() - dot - 1);
      return Kind.DECIMAL;
    }
    if (t.length() == 10) {
      try {
        LocalDate.parse(t);
        return Kind.DATE;
      } catch (DateTimeParseException e) {
        return Kind.STRING;
      }
    }
    if (t.length() >= 20 && t.length() <= 40 && Character.isDigit(t.charAt(0))) {
      try {
        OffsetDateTime.parse(t.replace(' ', 'T'));
        return Kind.TIMESTAMPTZ;
      } catch (DateTimeParseException e) {
        return Kind.STRING;
      }
    }
    return Kind.STRING;
  }

  /**
   * The narrowest type every value fits, or null when the values were only nulls and empty arrays.
   */
  private static String type(Seen s) {
    if (s.kinds.isEmpty() || (s.array && s.scalar)) {
      return s.kinds.isEmpty() ? null : "string";
    }
    String element;
    EnumSet<Kind> k = s.kinds;
    if (k.size() == 1) {
      element =
          switch (k.iterator().next()) {
            case BOOLEAN -> "boolean";
            case LONG -> "long";
            case DOUBLE -> "double";
            case TIMESTAMPTZ -> "timestamptz";
            case DATE -> "date";
            case UUID -> "uuid";
            case DECIMAL -> decimal(s);
            case STRING -> "string";
          };
    } else if (k.equals(EnumSet.of(Kind.LONG, Kind.DOUBLE))) {
      element = "double";
    } else {
      element = "string";
    }
    return s.array ? "list<" + element + ">" : element;
  }

  private static String decimal(Seen s) {
    int precision = Math.min(38, s.integerDigits + s.scale + 2);
    return "decimal(" + Math.max(precision, s.scale + 1) + "," + s.scale + ")";
  }

  /**
   * {@code order.total_amount} becomes {@code order_total_amount}; one of Floe's own names gets a
   * suffix.
   */
  static String columnName(String path) {
    String name =
        path.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]+", "_").replaceAll("^_+|_+$", "");
    if (name.isEmpty() || !Character.isLetter(name.charAt(0))) {
      name = "f_" + name;
    }
    if (name.length() > 120) {
      name = name.substring(0, 120);
    }
    return ColumnMapping.isOwnColumn(name) ? name + "_value" : name;
  }
}
