package io.floe.node.columns;

import io.floe.catalog.columns.ColumnMapping;
import io.floe.node.decode.EventCheck;

/** Refuses an event whose value for a {@code reject} column does not fit; one per request. */
final class RejectCheck implements EventCheck {
  private final ColumnSet.Compiled compiled;
  private final int[] start;
  private final int[] end;

  RejectCheck(ColumnSet.Compiled compiled) {
    this.compiled = compiled;
    this.start = new int[compiled.locator().slots()];
    this.end = new int[compiled.locator().slots()];
  }

  @Override
  public String problem(byte[] json, int off, int len) {
    compiled.locator().locate(json, off, len, start, end);
    for (int i = 0; i < compiled.mappings().size(); i++) {
      int slot = compiled.slots()[i];
      if (start[slot] < 0) {
        continue;
      }
      ColumnMapping m = compiled.mappings().get(i);
      try {
        ValueConverter.convert(json, start[slot], end[slot], m.type());
      } catch (ValueConverter.Mismatch e) {
        return "field '" + m.pathText() + "' (column " + m.name() + ", " + m.typeText() + "): " + e.getMessage();
      }
    }
    return null;
  }
}
