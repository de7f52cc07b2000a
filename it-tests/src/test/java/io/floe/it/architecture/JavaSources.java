package io.floe.it.architecture;

import java.io.IOException;
import java.io.UncheckedIOException;
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

  /**
   * What {@code check} finds in each source (its text) except those named in {@code skipped}, each
   * hit prefixed with the file's path from the repository root.
   */
  static List<String> findInEach(Function<String, List<String>> check, String... skipped)
      throws IOException {
    List<String> skip = List.of(skipped);
    List<String> found = new ArrayList<>();
    try (Stream<Path> files = Files.walk(ROOT)) {
      files
          .filter(p -> p.toString().endsWith(".java"))
          .filter(p -> p.toString().contains("/src/"))
          .filter(p -> !p.toString().contains("/target/") && !p.toString().contains("/."))
          .filter(p -> !skip.contains(p.getFileName().toString()))
          .sorted()
          .forEach(
              p -> {
                try {
                  for (String hit : check.apply(Files.readString(p))) {
                    found.add(ROOT.relativize(p) + ":" + hit);
                  }
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
    return found;
  }
}
