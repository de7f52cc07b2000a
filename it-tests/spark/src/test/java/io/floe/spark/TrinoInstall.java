package io.floe.spark;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * What a Trino server needs on this machine: a Java runtime new enough for it, and the part of the
 * server tarball (Maven's {@code io.trino:trino-server:tar.gz}) it runs from — {@code lib/} and the
 * Iceberg plugin, unpacked once into {@code floe.trino.home} (about 190 MB of the tarball's 820).
 *
 * <p>The tarball stores a jar that several plugins share once and the others as hard links to it,
 * so most of the Iceberg plugin's jars are links to other plugins' files: the unpacking reads the
 * headers first to learn which files those links need.
 */
final class TrinoInstall {
  /** The oldest Java that Trino 476 starts on. */
  static final int MIN_JAVA = 24;

  private static final Pattern VERSION = Pattern.compile("version \"(\\d+)");
  private static final String COMPLETE = ".complete";

  private TrinoInstall() {}

  /**
   * A java binary that runs Trino: {@code FLOE_TRINO_JAVA} if set, else the first {@code
   * /usr/lib/jvm/<jdk>/bin/java} of version {@value #MIN_JAVA} or later; empty with the reason
   * printed when there is none.
   */
  static Optional<Path> java(StringBuilder whyNot) throws IOException, InterruptedException {
    String configured = System.getenv("FLOE_TRINO_JAVA");
    if (configured != null && !configured.isBlank()) {
      Path java = Path.of(configured);
      int version = majorVersion(java);
      if (version >= MIN_JAVA) {
        return Optional.of(java);
      }
      whyNot.append(
          "FLOE_TRINO_JAVA="
              + configured
              + (version < 0 ? " does not run" : " is Java " + version)
              + "; Trino needs Java "
              + MIN_JAVA
              + "+");
      return Optional.empty();
    }
    Path jvms = Path.of("/usr/lib/jvm");
    if (Files.isDirectory(jvms)) {
      try (DirectoryStream<Path> jdks = Files.newDirectoryStream(jvms)) {
        for (Path jdk : jdks) {
          Path java = jdk.resolve("bin/java");
          if (Files.isExecutable(java) && majorVersion(java) >= MIN_JAVA) {
            return Optional.of(java);
          }
        }
      }
    }
    whyNot.append(
        "no Java "
            + MIN_JAVA
            + "+ for Trino: none in /usr/lib/jvm and FLOE_TRINO_JAVA unset"
            + " (install e.g. Temurin 25, or set FLOE_TRINO_JAVA to its bin/java)");
    return Optional.empty();
  }

  /** The major version that {@code java -version} prints, or -1 if it does not run. */
  private static int majorVersion(Path java) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(java.toString(), "-version").redirectErrorStream(true).start();
    } catch (IOException notRunnable) {
      return -1;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    Matcher m = VERSION.matcher(out);
    return p.exitValue() == 0 && m.find() ? Integer.parseInt(m.group(1)) : -1;
  }

  /**
   * The server's home ({@code lib/}, {@code plugin/iceberg/}), unpacked from {@code tarball} unless
   * an earlier run left it complete. Unpacks beside it first and renames, so that an interrupted
   * run leaves nothing that looks complete.
   */
  static Path home(Path tarball, Path home) throws IOException {
    if (Files.exists(home.resolve(COMPLETE))) {
      return home;
    }
    if (!Files.isRegularFile(tarball)) {
      throw new IllegalStateException(
          "no Trino server tarball at " + tarball + ": the module's pom names it (mvn fetches it)");
    }
    Path partial = home.resolveSibling(home.getFileName() + ".partial");
    deleteTree(partial);
    Files.createDirectories(partial);
    Set<String> linkTargets = new HashSet<>();
    try (TarArchiveInputStream tar = open(tarball)) {
      for (TarArchiveEntry e; (e = tar.getNextTarEntry()) != null; ) {
        if (e.isLink() && wanted(e.getName())) {
          linkTargets.add(e.getLinkName());
        }
      }
    }
    Path stash = partial.resolve(".link-targets");
    try (TarArchiveInputStream tar = open(tarball)) {
      for (TarArchiveEntry e; (e = tar.getNextTarEntry()) != null; ) {
        String name = e.getName();
        if (e.isFile() && !e.isLink()) {
          if (wanted(name)) {
            copy(tar, partial.resolve(inHome(name)));
          } else if (linkTargets.contains(name)) {
            copy(tar, stash.resolve(name));
          }
        } else if (e.isLink() && wanted(name)) {
          String target = e.getLinkName();
          Path from = wanted(target) ? partial.resolve(inHome(target)) : stash.resolve(target);
          Path to = partial.resolve(inHome(name));
          Files.createDirectories(to.getParent());
          Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
    deleteTree(stash);
    Files.createFile(partial.resolve(COMPLETE));
    deleteTree(home);
    Files.move(partial, home, StandardCopyOption.ATOMIC_MOVE);
    return home;
  }

  /** The server's jars and the Iceberg plugin without its HDFS file system (S3 is native). */
  private static boolean wanted(String name) {
    String path = inHome(name);
    return path.startsWith("lib/")
        || (path.startsWith("plugin/iceberg/") && !path.startsWith("plugin/iceberg/hdfs/"));
  }

  /** An entry's path below the tarball's top directory ({@code trino-server-476/}). */
  private static String inHome(String name) {
    int slash = name.indexOf('/');
    return slash < 0 ? "" : name.substring(slash + 1);
  }

  private static TarArchiveInputStream open(Path tarball) throws IOException {
    InputStream in = Files.newInputStream(tarball);
    return new TarArchiveInputStream(
        new GZIPInputStream(new BufferedInputStream(in, 1 << 16), 1 << 16));
  }

  private static void copy(InputStream entry, Path to) throws IOException {
    Files.createDirectories(to.getParent());
    Files.copy(entry, to, StandardCopyOption.REPLACE_EXISTING);
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(p);
      }
    }
  }
}
