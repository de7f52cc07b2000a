package io.floe.it.architecture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The map matches the territory: docs/design.md's package table lists, for every module with main
 * code, exactly the packages that hold its main classes, and every module of the build appears in
 * the module graph. A package added, moved or removed without the map fails here.
 */
class DesignMapTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path DESIGN = ROOT.resolve("docs/design.md");

  /** A row of the package table: | `artifact` | `path/` | packages |. */
  private static final Pattern ROW =
      Pattern.compile("^\\| `(floe-[a-z-]+)` \\| `([a-z/-]+)/` \\| (.+) \\|$");

  /** A package in the third column: its name in back-quotes, then its description in brackets. */
  private static final Pattern PACKAGE = Pattern.compile("`([a-z][a-z0-9.]*)` \\(");

  @Test
  void packageTableListsExactlyThePackagesOfEachModule() throws IOException {
    Map<String, Set<String>> documented = documentedPackages();
    Map<String, Set<String>> actual = new TreeMap<>();
    for (Path module : modulesWithMainCode()) {
      actual.put(ROOT.relativize(module).toString(), packagesOf(module));
    }
    assertEquals(
        actual.keySet(),
        documented.keySet(),
        "docs/design.md's package table must have one row per module with main code");
    for (String module : actual.keySet()) {
      assertEquals(
          actual.get(module),
          documented.get(module),
          "docs/design.md's packages of " + module + " (under io.floe) differ from the tree");
    }
  }

  @Test
  void moduleGraphNamesEveryModuleOfTheBuild() throws IOException {
    String design = Files.readString(DESIGN);
    int graphEnd = design.indexOf("## Packages");
    assertTrue(graphEnd > 0, "docs/design.md has a Packages section");
    String graph = design.substring(0, graphEnd);
    for (Path pom : modulePoms()) {
      String path = ROOT.relativize(pom.getParent()).toString();
      assertTrue(
          graph.contains("(" + path + "/)") || graph.contains("(" + path + ")"),
          "docs/design.md's module graph does not mention (" + path + "/)");
    }
  }

  private static Map<String, Set<String>> documentedPackages() throws IOException {
    Map<String, Set<String>> rows = new TreeMap<>();
    for (String line : Files.readAllLines(DESIGN)) {
      Matcher row = ROW.matcher(line);
      if (!row.matches()) {
        continue;
      }
      Set<String> packages = new TreeSet<>();
      Matcher p = PACKAGE.matcher(row.group(3));
      while (p.find()) {
        packages.add(p.group(1));
      }
      assertFalse(packages.isEmpty(), "no packages read from the row of " + row.group(1));
      rows.put(row.group(2), packages);
    }
    return rows;
  }

  /** Modules of the build (directories with a pom.xml below the root, not the parent itself). */
  private static List<Path> modulePoms() throws IOException {
    try (Stream<Path> files = Files.walk(ROOT, 3)) {
      return files
          .filter(p -> p.getFileName().toString().equals("pom.xml"))
          .filter(p -> !p.getParent().equals(ROOT))
          .filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/."))
          .filter(p -> !isAggregator(p))
          .sorted()
          .toList();
    }
  }

  private static boolean isAggregator(Path pom) {
    try {
      return Files.readString(pom).contains("<packaging>pom</packaging>");
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + pom, e);
    }
  }

  private static List<Path> modulesWithMainCode() throws IOException {
    return modulePoms().stream()
        .map(Path::getParent)
        .filter(m -> Files.isDirectory(m.resolve("src/main/java")))
        .toList();
  }

  /** Packages under io.floe holding at least one main class, relative to io.floe. */
  private static Set<String> packagesOf(Path module) throws IOException {
    Path base = module.resolve("src/main/java/io/floe");
    try (Stream<Path> files = Files.walk(base)) {
      return files
          .filter(p -> p.toString().endsWith(".java"))
          .map(p -> base.relativize(p.getParent()).toString().replace('/', '.'))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }
}
