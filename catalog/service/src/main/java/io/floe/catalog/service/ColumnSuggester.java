package io.floe.catalog.service;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.floe.catalog.columns.ColumnMapping;
import io.floe.catalog.columns.ColumnMappings;
import io.floe.catalog.columns.ColumnTypes;
import io.floe.catalog.columns.ColumnValues;
import io.floe.catalog.columns.ColumnValues.JsonKind;
import io.floe.catalog.columns.NumberText;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Proposes typed columns from what the table holds, as a help (nothing is declared by it): reads
 * the payloads of the newest data files (of one stream, or all) up to a sample size, walks each
 * event's fields (nested objects too, up to a depth; the first of a repeated name counts, as for
 * the nodes), and reports per path the narrowest type all its non-null values fit and how often it
 * is present ({@code fill_rate}, of the sampled events). What fits a type is {@link ColumnValues}'s
 * to decide, on the value's JSON text as the nodes see it (numbers are never converted to judge
 * them).
 */
public final class ColumnSuggester {
  private static final int MAX_DEPTH = 4;
  private static final int MAX_PATHS = 500;

  /** Numbers are only read as text, so any length is cheap. */
  private static final JsonFactory JSON =
      JsonFactory.builder()
          .streamReadConstraints(
              StreamReadConstraints.builder().maxNumberLength(Integer.MAX_VALUE).build())
          .build();

  /** The types proposed, narrowest first; a value fits some of them (string always). */
  private enum Candidate {
    BOOLEAN(Types.BooleanType.get()),
    LONG(Types.LongType.get()),
    DOUBLE(Types.DoubleType.get()),
    /** its precision and scale are those of the values seen */
    DECIMAL(null),
    DATE(Types.DateType.get()),
    TIMESTAMPTZ(Types.TimestampType.withZone()),
    TIMESTAMP(Types.TimestampType.withoutZone()),
    UUID(Types.UUIDType.get()),
    STRING(Types.StringType.get());

    final Type type;

    Candidate(Type type) {
      this.type = type;
    }
  }

  /** What a path's values were, over the sample. */
  private static final class Seen {
    long present;
    boolean array;
    boolean scalar;
    boolean valued;
    final EnumSet<Candidate> fits = EnumSet.allOf(Candidate.class);
    int integerDigits;
    int decimalPlaces;
    String example;

    /** Narrows the candidates to those one non-null value (or array element) fits. */
    void fit(JsonKind kind, byte[] text) {
      valued = true;
      for (Iterator<Candidate> i = fits.iterator(); i.hasNext(); ) {
        Candidate c = i.next();
        if (c == Candidate.DECIMAL) {
          // the decimal every value fits is sized by the largest of each (ColumnValues' rule)
          int places = NumberText.decimalPlaces(text, 0, text.length);
          if ((kind == JsonKind.NUMBER || kind == JsonKind.STRING) && places >= 0) {
            integerDigits = Math.max(integerDigits, NumberText.integerDigits(text, 0, text.length));
            decimalPlaces = Math.max(decimalPlaces, places);
          } else {
            i.remove();
          }
        } else if (!ColumnValues.fits(kind, text, 0, text.length, c.type)) {
          i.remove();
        }
      }
    }
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
            String payload = (String) r.getField("payload");
            try (JsonParser p = JSON.createParser(payload)) {
              if (p.nextToken() == JsonToken.START_OBJECT) {
                walk(p, payload, "", 0, seen);
              }
            }
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

  /** Walks the members of the object whose start {@code p} is at, up to its end. */
  private static void walk(
      JsonParser p, String payload, String prefix, int depth, Map<String, Seen> seen)
      throws IOException {
    Set<String> names = new HashSet<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken t = p.nextToken();
      if (name.isEmpty() || name.contains(".") || !names.add(name) || t == JsonToken.VALUE_NULL) {
        p.skipChildren(); // a dotted path cannot address it; a repeated name is not the one read
        continue;
      }
      String path = prefix.isEmpty() ? name : prefix + "." + name;
      if (t == JsonToken.START_OBJECT) {
        if (depth + 1 < MAX_DEPTH) {
          walk(p, payload, path, depth + 1, seen);
        } else {
          p.skipChildren();
        }
      } else if (!seen.containsKey(path) && seen.size() >= MAX_PATHS) {
        p.skipChildren();
      } else {
        observe(p, payload, seen.computeIfAbsent(path, k -> new Seen()));
      }
    }
  }

  /** Records the value {@code p} is at (not null, not an object) for its path. */
  private static void observe(JsonParser p, String payload, Seen s) throws IOException {
    long start = p.currentTokenLocation().getCharOffset();
    s.present++;
    if (p.currentToken() == JsonToken.START_ARRAY) {
      s.array = true;
      for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
        if (t != JsonToken.VALUE_NULL) {
          s.fit(kind(t), text(p));
        }
        p.skipChildren();
      }
    } else {
      s.scalar = true;
      s.fit(kind(p.currentToken()), text(p));
    }
    if (s.example == null) {
      long end = p.currentLocation().getCharOffset();
      s.example =
          end - start <= 40
              ? payload.substring((int) start, (int) end)
              : payload.substring((int) start, (int) start + 37) + "...";
    }
  }

  private static JsonKind kind(JsonToken t) {
    return switch (t) {
      case VALUE_NULL -> JsonKind.NULL;
      case VALUE_TRUE, VALUE_FALSE -> JsonKind.BOOLEAN;
      case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> JsonKind.NUMBER;
      case VALUE_STRING -> JsonKind.STRING;
      case START_ARRAY -> JsonKind.ARRAY;
      default -> JsonKind.OBJECT;
    };
  }

  /** A scalar's text as the rule book reads it: a number's JSON text, a string's content. */
  private static byte[] text(JsonParser p) throws IOException {
    return p.currentToken().isScalarValue()
        ? p.getText().getBytes(StandardCharsets.UTF_8)
        : new byte[0];
  }

  /**
   * Whether the suggester takes one JSON value to fit {@code type}, reading it as it reads payloads
   * (public for the test that holds the suggester and the nodes to docs/columns.md's table).
   */
  public static boolean fits(String json, Type type) {
    try (JsonParser p = JSON.createParser(json)) {
      JsonToken t = p.nextToken();
      if (!(type instanceof Types.ListType list) || t != JsonToken.START_ARRAY) {
        byte[] text = text(p);
        return ColumnValues.fits(kind(t), text, 0, text.length, type);
      }
      for (t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
        byte[] text = text(p);
        if (!ColumnValues.fits(kind(t), text, 0, text.length, list.elementType())) {
          return false;
        }
        p.skipChildren();
      }
      return true;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The type the suggester proposes for a path holding these JSON values (null for only nulls and
   * empty arrays); public for the same test.
   */
  public static String suggestedType(String... values) {
    Seen s = new Seen();
    for (String json : values) {
      try (JsonParser p = JSON.createParser(json)) {
        if (p.nextToken() != JsonToken.VALUE_NULL) {
          observe(p, json, s);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return type(s);
  }

  /**
   * The narrowest type every value fits, or null when the values were only nulls and empty arrays.
   */
  private static String type(Seen s) {
    if (!s.valued) {
      return null;
    }
    if (s.array && s.scalar) {
      return "string";
    }
    String element = null;
    for (Candidate c : s.fits) {
      if (c != Candidate.DECIMAL) {
        element = ColumnTypes.format(c.type);
        break;
      }
      if (s.integerDigits + s.decimalPlaces <= 38) {
        // headroom for larger values, within what a decimal holds; every value seen fits it
        int precision = Math.max(1, Math.min(38, s.integerDigits + s.decimalPlaces + 2));
        element = "decimal(" + precision + "," + s.decimalPlaces + ")";
        break;
      }
    }
    return s.array ? "list<" + element + ">" : element;
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
