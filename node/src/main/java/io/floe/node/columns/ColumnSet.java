package io.floe.node.columns;

import io.floe.catalog.columns.ColumnMapping;
import io.floe.catalog.columns.ColumnMappings;
import io.floe.catalog.table.EventsTable;
import io.floe.node.decode.EventCheck;
import io.floe.node.json.FieldPaths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;

/**
 * The table's typed columns as one node sees them at one moment: the schema to write with and the
 * active mappings, compiled per stream on first use. Immutable (the per-stream cache aside, which
 * only memoizes); a newer table makes a new set.
 */
public final class ColumnSet {
  public static final ColumnSet NONE = new ColumnSet(EventsTable.SCHEMA, List.of());

  private final Schema schema;
  private final List<ColumnMapping> active;
  private final int[] positions;
  private final Map<String, Compiled> byStream = new ConcurrentHashMap<>();
  private final Map<String, RejectCheck> rejectsByStream = new ConcurrentHashMap<>();

  ColumnSet(Schema schema, List<ColumnMapping> active) {
    this.schema = schema;
    this.active = List.copyOf(active);
    this.positions = new int[active.size()];
    for (int i = 0; i < positions.length; i++) {
      positions[i] = EventsTable.position(schema, active.get(i).fieldId());
    }
  }

  /** The set a table's schema and properties describe now. */
  public static ColumnSet of(Table table) {
    return of(table.schema(), ColumnMappings.read(table).active());
  }

  static ColumnSet of(Schema schema, List<ColumnMapping> active) {
    return new ColumnSet(schema, active);
  }

  /** The schema data files are written with: every column the table has now. */
  public Schema schema() {
    return schema;
  }

  public List<ColumnMapping> active() {
    return active;
  }

  /** A filler for one writer thread. */
  public ColumnFiller filler() {
    return new ColumnFiller(this);
  }

  /** The check of the {@code reject} columns of {@code stream}, or null when it has none. */
  public EventCheck rejectCheck(String stream) {
    RejectCheck check =
        rejectsByStream.computeIfAbsent(stream, s -> new RejectCheck(compile(s, true)));
    return check.isEmpty() ? null : check;
  }

  Compiled forStream(String stream) {
    return byStream.computeIfAbsent(stream, s -> compile(s, false));
  }

  int[] positions() {
    return positions;
  }

  private Compiled compile(String stream, boolean rejectOnly) {
    List<ColumnMapping> mine = new ArrayList<>();
    List<Integer> mineAt = new ArrayList<>();
    for (int i = 0; i < active.size(); i++) {
      ColumnMapping m = active.get(i);
      if (m.appliesTo(stream)
          && (!rejectOnly || m.onMismatch() == ColumnMapping.OnMismatch.REJECT)) {
        mine.add(m);
        mineAt.add(positions[i]);
      }
    }
    Map<List<String>, Integer> distinct = new LinkedHashMap<>();
    int[] slot = new int[mine.size()];
    for (int i = 0; i < mine.size(); i++) {
      slot[i] = distinct.computeIfAbsent(mine.get(i).path(), p -> distinct.size());
    }
    int[] at = mineAt.stream().mapToInt(Integer::intValue).toArray();
    return new Compiled(
        List.copyOf(mine), at, slot, new FieldPaths(new ArrayList<>(distinct.keySet())));
  }

  /** The mappings of one stream: their record positions, their locator slots, the locator. */
  record Compiled(List<ColumnMapping> mappings, int[] positions, int[] slots, FieldPaths paths) {}
}
