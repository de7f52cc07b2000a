package io.floe.node.columns;

import io.floe.catalog.columns.ColumnMapping;
import java.util.HashMap;
import java.util.Map;

/**
 * Fills the typed columns of the rows one writer thread writes, from each event's stored JSON: the
 * value at the mapping's path converted to the column's type, in Iceberg's internal representation
 * (what its internal Parquet writer takes: a date as days, a timestamp as micros); null when the
 * event has no such field, or when the value does not fit (then counted). Not thread-safe: one per
 * writer.
 */
public final class ColumnFiller {
  private final ColumnSet set;
  private final Map<String, Long> mismatches = new HashMap<>();
  private int[] start = new int[0];
  private int[] end = new int[0];
  private String stream;
  private ColumnSet.Compiled compiled;

  ColumnFiller(ColumnSet set) {
    this.set = set;
  }

  /**
   * Sets every typed column of a row ({@code values} by position in the set's schema) for an event
   * of {@code stream}.
   */
  public void fill(Object[] values, String stream, byte[] json, int off, int len) {
    int[] all = set.positions();
    if (all.length == 0) {
      return;
    }
    for (int p : all) {
      values[p] = null;
    }
    if (!stream.equals(this.stream)) {
      this.stream = stream;
      compiled = set.forStream(stream);
      int slots = compiled.paths().slots();
      if (start.length < slots) {
        start = new int[slots];
        end = new int[slots];
      }
    }
    if (compiled.mappings().isEmpty()) {
      return;
    }
    compiled.paths().locate(json, off, len, start, end);
    for (int i = 0; i < compiled.mappings().size(); i++) {
      int slot = compiled.slots()[i];
      if (start[slot] < 0) {
        continue;
      }
      ColumnMapping m = compiled.mappings().get(i);
      try {
        values[compiled.positions()[i]] =
            ValueConverter.internal(
                ValueConverter.convert(json, start[slot], end[slot], m.type()), m.type());
      } catch (ValueConverter.Mismatch e) {
        mismatches.merge(m.name(), 1L, Long::sum);
      }
    }
  }

  /** Values that did not fit, per column name, since this filler was made. */
  public Map<String, Long> mismatches() {
    return mismatches;
  }
}
