package io.floe.it.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The table's vocabulary has one home: every {@code floe.*} table property and snapshot-summary key
 * is spelled in {@code catalog/table}'s {@code FloeTableKeys} and nowhere else — not in other main
 * classes, not in tests, not in tools (they use the constants), so a renamed key cannot leave a
 * reader or a check behind.
 */
class TableKeysTest {
  private static final String HOME = "FloeTableKeys.java";

  /** A string literal (on one line). */
  private static final Pattern LITERAL = Pattern.compile("\"((?:[^\"\\\\\\n]|\\\\.)*)\"");

  /**
   * The key families of the table: partition state, operations, column mappings, maintenance
   * leases, owners and sequence ranges, the coordinator, commit and compaction ids, stream
   * policies, the event count. ({@code floe.events} is also the default table's name: code names
   * the table through {@code EventsTable.identifier}, so the literal is a key wherever it stands.)
   */
  private static final Pattern KEY =
      Pattern.compile(
          "^floe\\.(partitions?|operation|column|maintenance|owner|sequence|coordinator"
              + "|commit-id|compaction-id|stream|events)(?![a-z_])");

  @Test
  void everyTableKeyIsSpelledOnlyInFloeTableKeys() throws IOException {
    List<String> found = JavaSources.findInEach(TableKeysTest::check, HOME, "TableKeysTest.java");
    assertEquals(List.of(), found, "use the constants of io.floe.catalog.table.FloeTableKeys");
  }

  @Test
  void theCheckFindsKeysButNotOtherFloeNames() {
    String source =
        "class A {\n  String t = \"floe.events\";\n  String k = \"floe.partition.0.epoch\";\n"
            + "  String p = \"floe.test.fault-point\";\n  String o = \"floe.operation\";\n"
            + "  String d = \"floe.events_dead_letter\"; String s = \"floe.stream.on-error.*\";\n}\n";
    assertEquals(
        List.of(
            "2: floe.events",
            "3: floe.partition.0.epoch",
            "5: floe.operation",
            "6: floe.stream.on-error.*"),
        check(source));
    assertEquals(List.of("1: floe.partitions"), check("String p = \"floe.partitions\";"));
  }

  /** Hits as "line: literal", lines counted from 1. */
  static List<String> check(String source) {
    String[] lines = source.split("\n", -1);
    List<String> hits = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      Matcher m = LITERAL.matcher(lines[i]);
      while (m.find()) {
        if (KEY.matcher(m.group(1)).find()) {
          hits.add((i + 1) + ": " + m.group(1));
        }
      }
    }
    return hits;
  }
}
