package io.floe.it.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The build keeps the style where the formatter cannot: no Java source of any module spells a type
 * by its fully-qualified name inline (import it; a real clash of simple names is the only reason
 * not to, and none exists today). Comments and string literals are not code and are skipped.
 */
class InlineNamesTest {
  private static final Pattern QUALIFIED =
      Pattern.compile(
          "(?<![\\w.])(?:java|javax|jdk|io|org|com|net|software)\\.[a-z0-9_]+(?:\\.[a-z0-9_]+)*"
              + "\\.[A-Z]\\w*");

  @Test
  void noTypeIsNamedInlineByItsQualifiedName() throws IOException {
    List<String> found = JavaSources.findInEach(InlineNamesTest::check);
    assertEquals(List.of(), found, "import these types instead of naming them inline");
  }

  @Test
  void theCheckSeesCodeButNotCommentsOrStrings() {
    String source =
        "package a;\nimport java.util.List;\n/** {@link java.util.Map} */\nclass A {\n"
            + "  // java.util.Set\n  String s = \"org.apache.Thing\";\n  java.util.Deque<String> d;\n}\n";
    assertEquals(List.of("7: java.util.Deque"), check(source));
  }

  /** Hits as "line: name", lines counted from 1. */
  static List<String> check(String source) {
    String[] lines = codeOnly(source).split("\n", -1);
    List<String> hits = new ArrayList<>();
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.startsWith("import ") || line.startsWith("package ")) {
        continue;
      }
      Matcher m = QUALIFIED.matcher(lines[i]);
      while (m.find()) {
        hits.add((i + 1) + ": " + m.group());
      }
    }
    return hits;
  }

  /** The source with comments and string, text-block and char literals blanked (lines kept). */
  private static String codeOnly(String s) {
    StringBuilder out = new StringBuilder(s.length());
    int i = 0;
    while (i < s.length()) {
      if (s.startsWith("\"\"\"", i)) {
        i = skip(s, out, i, s.indexOf("\"\"\"", i + 3), 3);
      } else if (s.startsWith("//", i)) {
        i = skip(s, out, i, s.indexOf('\n', i), 0);
      } else if (s.startsWith("/*", i)) {
        i = skip(s, out, i, s.indexOf("*/", i + 2), 2);
      } else if (s.charAt(i) == '"' || s.charAt(i) == '\'') {
        char quote = s.charAt(i);
        int j = i + 1;
        while (j < s.length() && s.charAt(j) != quote) {
          j += s.charAt(j) == '\\' ? 2 : 1;
        }
        i = skip(s, out, i, j, 1);
      } else {
        out.append(s.charAt(i++));
      }
    }
    return out.toString();
  }

  /** Blanks s[from, end + tail) keeping its line breaks; returns where to go on. */
  private static int skip(String s, StringBuilder out, int from, int end, int tail) {
    int to = end < 0 ? s.length() : Math.min(s.length(), end + tail);
    for (int k = from; k < to; k++) {
      out.append(s.charAt(k) == '\n' ? '\n' : ' ');
    }
    return to;
  }
}
