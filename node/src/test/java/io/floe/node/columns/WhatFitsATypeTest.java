package io.floe.node.columns;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.columns.ColumnTypes;
import io.floe.catalog.service.ColumnSuggester;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.types.Type;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every example of the table in docs/columns.md "What fits a type", run through the node's
 * converter (flush), its ingest check and the column suggester: each must agree with the table, and
 * the type the suggester proposes for a value must take it. The docs are this test's data, so the
 * two cannot drift apart.
 */
class WhatFitsATypeTest {
  private static final Path DOCS = Path.of("..", "docs", "columns.md");
  private static final Pattern CODE = Pattern.compile("`([^`]+)`");

  static List<Arguments> examples() throws IOException {
    List<String> lines = Files.readAllLines(DOCS);
    int at = lines.indexOf("### What fits a type");
    assertThat(at).as("the section in " + DOCS.toAbsolutePath()).isNotNegative();
    while (!lines.get(at).replace(" ", "").equals("|type|fits|doesnotfit|")) {
      assertThat(lines.get(++at)).as("the examples table of the section").doesNotStartWith("#");
    }
    List<Arguments> examples = new ArrayList<>();
    Set<String> types = new LinkedHashSet<>();
    List<String> everyType = new ArrayList<>();
    for (at += 2; at < lines.size() && lines.get(at).startsWith("|"); at++) {
      String line = lines.get(at);
      String[] cells = line.substring(1, line.length() - 1).split("\\|", -1);
      assertThat(cells).as(line).hasSize(3);
      List<String> rowTypes = code(cells[0]);
      if (rowTypes.isEmpty()) {
        everyType.addAll(code(cells[1]));
        continue;
      }
      types.addAll(rowTypes);
      for (String type : rowTypes) {
        code(cells[1]).forEach(json -> examples.add(Arguments.of(type, json, true)));
        code(cells[2]).forEach(json -> examples.add(Arguments.of(type, json, false)));
      }
    }
    for (String json : everyType) {
      types.forEach(type -> examples.add(Arguments.of(type, json, true)));
    }
    assertThat(examples).as("examples read from " + DOCS).hasSizeGreaterThan(80);
    return examples;
  }

  private static List<String> code(String cell) {
    List<String> out = new ArrayList<>();
    Matcher m = CODE.matcher(cell);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  @ParameterizedTest(name = "{0} {1} fits: {2}")
  @MethodSource("examples")
  void theNodesAndTheSuggesterAgreeWithTheDocs(String typeText, String json, boolean fits) {
    Type type = ColumnTypes.parse(typeText);
    assertThat(converts(json, type)).as("the node's converter").isEqualTo(fits);
    assertThat(checks(json, type)).as("the node's ingest check").isEqualTo(fits);
    assertThat(ColumnSuggester.fits(json, type)).as("the column suggester").isEqualTo(fits);
    String proposed = ColumnSuggester.suggestedType(json);
    if (proposed != null) {
      assertThat(converts(json, ColumnTypes.parse(proposed)))
          .as("the node takes it for the type proposed, " + proposed)
          .isTrue();
    }
  }

  private static boolean converts(String json, Type type) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    try {
      ValueConverter.convert(b, 0, b.length, type);
      return true;
    } catch (ValueConverter.Mismatch e) {
      return false;
    }
  }

  private static boolean checks(String json, Type type) {
    byte[] b = json.getBytes(StandardCharsets.UTF_8);
    try {
      ValueConverter.check(b, 0, b.length, type);
      return true;
    } catch (ValueConverter.Mismatch e) {
      return false;
    }
  }
}
