package io.floe.node.columns;

import io.floe.catalog.columns.ColumnMapping;
import io.floe.node.decode.EventCheck;
import io.floe.node.json.FieldPaths;

/**
 * Refuses an event whose value for a {@code reject} column does not fit; stateless, shared per
 * stream.
 */
final class RejectCheck implements EventCheck {
  private final ColumnSet.Compiled compiled;

  RejectCheck(ColumnSet.Compiled compiled) {
    this.compiled = compiled;
  }

  /** True when the stream has no {@code reject} column: nothing to check. */
  boolean isEmpty() {
    return compiled.mappings().isEmpty();
  }

  @Override
  public FieldPaths paths() {
    return compiled.paths();
  }

  @Override
  public String problem(byte[] json, int[] start, int[] end) {
    for (int i = 0; i < compiled.mappings().size(); i++) {
      int slot = compiled.slots()[i];
      if (start[slot] < 0) {
        continue;
      }
      ColumnMapping m = compiled.mappings().get(i);
      try {
        ValueConverter.check(json, start[slot], end[slot], m.type());
      } catch (ValueConverter.Mismatch e) {
        return "field '"
            + m.pathText()
            + "' (column "
            + m.name()
            + ", "
            + m.typeText()
            + "): "
            + e.getMessage();
      }
    }
    return null;
  }
}
