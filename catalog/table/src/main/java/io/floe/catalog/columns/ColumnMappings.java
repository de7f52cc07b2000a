package io.floe.catalog.columns;

import io.floe.catalog.columns.ColumnMappingException.Kind;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.common.retry.Backoff;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The typed columns of the table: read from its schema and {@code floe.column.*} properties (what
 * every node follows), and changed by the admin API. Adding a mapping adds an optional column
 * (Iceberg schema evolution, a fresh field id) and then records the mapping; widening changes the
 * column's type in place; dropping marks the mapping dropped (the column and its values stay, new
 * rows leave it null) and keeps its path, so the name is never reused for other data.
 *
 * <p>Schema changes and the mapping are separate commits, each retried on a conflict with the
 * nodes' appends; a crash between them leaves a column without a mapping, which the same request
 * completes.
 */
public final class ColumnMappings {
  /** Mappings a table may hold (dropped included): each costs every flush a little. */
  public static final int MAX_COLUMNS = 256;

  private static final int ATTEMPTS = 10;

  private ColumnMappings() {}

  /** The table's mappings, and the properties that could not be read (why, for a log line). */
  public record Read(List<ColumnMapping> mappings, List<String> problems) {
    public List<ColumnMapping> active() {
      return mappings.stream().filter(m -> !m.dropped()).toList();
    }

    public ColumnMapping named(String name) {
      return mappings.stream().filter(m -> m.name().equals(name)).findFirst().orElse(null);
    }
  }

  /** What a user asks for; {@code streams} empty means every stream. */
  public record Request(
      String name, String type, String path, List<String> streams, String onMismatch) {}

  public enum Outcome {
    CREATED,
    UPDATED,
    UNCHANGED
  }

  public record Result(ColumnMapping mapping, Outcome outcome) {}

  public static Read read(Table table) {
    return read(table.schema(), table.properties());
  }

  public static Read read(Schema schema, Map<String, String> properties) {
    List<ColumnMapping> out = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    properties.forEach(
        (k, v) -> {
          if (!k.startsWith(FloeTableKeys.COLUMN_PREFIX)) {
            return;
          }
          String name = k.substring(FloeTableKeys.COLUMN_PREFIX.length());
          try {
            out.add(
                ColumnMapping.fromProperty(
                    name,
                    v,
                    id -> {
                      Types.NestedField f = topLevel(schema, id);
                      return f == null ? null : f.type();
                    }));
          } catch (IllegalArgumentException e) {
            problems.add("table property " + k + " " + e.getMessage());
          }
        });
    out.sort(Comparator.comparing(ColumnMapping::name));
    return new Read(List.copyOf(out), List.copyOf(problems));
  }

  /** Adds (or widens, re-enables, re-scopes) a mapping. */
  public static Result add(Table table, Request r) {
    String name;
    Type type;
    List<String> path;
    List<String> streams;
    ColumnMapping.OnMismatch onMismatch;
    try {
      name = ColumnMapping.checkName(r.name());
      type = ColumnTypes.parse(r.type());
      path = ColumnMapping.parsePath(r.path());
      streams = ColumnMapping.checkStreams(r.streams() == null ? List.of() : r.streams());
      onMismatch = ColumnMapping.OnMismatch.parse(r.onMismatch());
    } catch (IllegalArgumentException e) {
      throw new ColumnMappingException(Kind.INVALID, e.getMessage());
    }
    return retried(
        table,
        () -> {
          Read now = read(table);
          ColumnMapping existing = now.named(name);
          Schema schema = table.schema();
          Types.NestedField column =
              existing != null ? topLevel(schema, existing.fieldId()) : schema.findField(name);
          if (existing != null && !existing.path().equals(path)) {
            throw new ColumnMappingException(
                Kind.CONFLICT,
                "column '"
                    + name
                    + "' is filled from "
                    + existing.pathText()
                    + (existing.dropped() ? " (dropped)" : "")
                    + "; a different path needs a new column name");
          }
          if (column != null && column.fieldId() <= EventsTable.PAYLOAD_ID && existing == null) {
            throw new ColumnMappingException(
                Kind.INVALID, "'" + name + "' is one of Floe's own columns");
          }
          if (column != null
              && (ColumnTypes.format(column.type()) == null
                  || !ColumnTypes.widens(column.type(), type))) {
            throw new ColumnMappingException(
                Kind.CONFLICT,
                "column '"
                    + name
                    + "' exists as "
                    + Objects.requireNonNullElse(
                        ColumnTypes.format(column.type()), column.type().toString())
                    + "; it can keep its type or widen it (int to long, float to double, a decimal's precision), not become "
                    + ColumnTypes.format(type));
          }
          if (existing == null && now.mappings().size() >= MAX_COLUMNS) {
            throw new ColumnMappingException(
                Kind.INVALID, "the table already has " + MAX_COLUMNS + " column mappings");
          }
          if (column == null) {
            table
                .updateSchema()
                .addColumn(name, type, "floe: filled from the JSON path " + String.join(".", path))
                .commit();
            table.refresh();
            column = table.schema().findField(name);
          } else if (!column.type().equals(type)) {
            widen(table.updateSchema(), column, type).commit();
            table.refresh();
            column = topLevel(table.schema(), column.fieldId());
          }
          ColumnMapping wanted =
              new ColumnMapping(
                  name, column.fieldId(), column.type(), path, streams, onMismatch, false);
          if (wanted.equals(existing)) {
            return new Result(existing, Outcome.UNCHANGED);
          }
          table.updateProperties().set(wanted.propertyKey(), wanted.propertyValue()).commit();
          return new Result(wanted, existing == null ? Outcome.CREATED : Outcome.UPDATED);
        });
  }

  /** Stops filling a column; its values stay. Returns the mapping as it is now (dropped). */
  public static ColumnMapping drop(Table table, String name) {
    return retried(
        table,
        () -> {
          ColumnMapping existing = read(table).named(name);
          if (existing == null || existing.dropped()) {
            throw new ColumnMappingException(
                Kind.NOT_FOUND, "no column mapping named '" + name + "'");
          }
          ColumnMapping dropped = existing.withDropped(true);
          table.updateProperties().set(dropped.propertyKey(), dropped.propertyValue()).commit();
          return dropped;
        });
  }

  private static UpdateSchema widen(UpdateSchema update, Types.NestedField column, Type to) {
    if (to instanceof Types.ListType list) {
      return update.updateColumn(column.name() + ".element", list.elementType().asPrimitiveType());
    }
    return update.updateColumn(column.name(), to.asPrimitiveType());
  }

  private static Types.NestedField topLevel(Schema schema, int fieldId) {
    return schema.columns().stream().filter(c -> c.fieldId() == fieldId).findFirst().orElse(null);
  }

  /**
   * Runs {@code step} on a fresh view of the table, again (with backoff) when a node's append won
   * the race.
   */
  private static <T> T retried(Table table, Supplier<T> step) {
    try {
      return Backoff.exponential(Duration.ofMillis(50), Duration.ofSeconds(2))
          .maxAttempts(ATTEMPTS)
          .call(
              () -> {
                table.refresh();
                return step.get();
              },
              e -> e instanceof CommitFailedException,
              (e, attempt, delay) -> {});
    } catch (Backoff.GaveUpException e) {
      throw (CommitFailedException) e.getCause();
    } catch (RuntimeException e) {
      throw e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while changing the table's columns", e);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
