package io.floe.it.architecture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;

/** The repository's Java sources (every module, main and test), for the checks of the house. */
final class JavaSources {
  static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  private JavaSources() {}

  /** Source code of a module: under a src folder, not a build output or a hidden folder. */
  private static boolean inRepository(String relative) {
    String path = "/" + relative;
    return path.contains("/src/") && !path.contains("/target/") && !path.contains("/.");
  }

  /**
   * What {@code check} finds in each source (its text) except those named in {@code skipped}, each
   * hit prefixed with the file's path from the repository root.
   */
  static List<String> findInEach(Function<String, List<String>> check, String... skipped)
      throws IOException {
    List<String> skip = List.of(skipped);
    List<String> found = new ArrayList<>();
    List<Path> sources;
    try (Stream<Path> files = Files.walk(ROOT)) {
      // judged by the path inside the repository: a checkout may itself live in a hidden folder
      sources =
          files
              .filter(p -> p.toString().endsWith(".java"))
              .filter(p -> inRepository(ROOT.relativize(p).toString()))
              .filter(p -> !skip.contains(p.getFileName().toString()))
              .sorted()
              .toList();
    }
    if (sources.size() < 100) {
      throw new IllegalStateException(
          "only " + sources.size() + " Java sources found under " + ROOT + ": the walk is wrong");
    }
    for (Path p : sources) {
      for (String hit : check.apply(Files.readString(p))) {
        found.add(ROOT.relativize(p) + ":" + hit);
      }
    }
    return found;
  }
}
