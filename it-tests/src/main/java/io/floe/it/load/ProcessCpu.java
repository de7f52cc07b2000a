package io.floe.it.load;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * CPU time of a local process and of its threads, read from {@code /proc/<pid>/stat} and {@code
 * /proc/<pid>/task/<tid>/stat} (user + system ticks). Two samples give the CPU-seconds spent
 * between them, in total and per thread group; the groups come from the thread names, so the
 * process under test needs no change (and native threads, such as RocksDB's, and the JVM's own are
 * seen too). A thread that ends between the samples counts in the total and under "other".
 */
public final class ProcessCpu {
  /** One reading: the process's ticks and each live thread's (name, ticks). */
  public record Sample(long totalTicks, Map<Long, Thread> threads) {}

  public record Thread(String name, long ticks) {}

  public static final double DEFAULT_TICKS_PER_SECOND = 100;

  private final String label;
  private final long pid;
  private final Function<String, String> groupOf;

  public ProcessCpu(String label, long pid, Function<String, String> groupOf) {
    this.label = label;
    this.pid = pid;
    this.groupOf = groupOf;
  }

  String label() {
    return label;
  }

  /** The ticks of one stat line: fields 14 (utime) and 15 (stime), counted after the name. */
  static long ticks(String statLine) {
    String[] f = statLine.substring(statLine.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]);
  }

  /** The thread name of a stat line (between the first '(' and the last ')'; may hold both). */
  static String name(String statLine) {
    return statLine.substring(statLine.indexOf('(') + 1, statLine.lastIndexOf(')'));
  }

  /** Reads the process now; null once it has gone. */
  public Sample sample() {
    Path proc = Path.of("/proc", Long.toString(pid));
    try {
      long total = ticks(Files.readString(proc.resolve("stat")));
      Map<Long, Thread> threads = new HashMap<>();
      try (DirectoryStream<Path> tasks = Files.newDirectoryStream(proc.resolve("task"))) {
        for (Path task : tasks) {
          try {
            String line = Files.readString(task.resolve("stat"));
            threads.put(
                Long.parseLong(task.getFileName().toString()), new Thread(name(line), ticks(line)));
          } catch (NoSuchFileException ended) {
            // the thread ended while the directory was read: its time stays in the total
          }
        }
      }
      return new Sample(total, threads);
    } catch (NoSuchFileException gone) {
      return null;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + proc + ": " + e.getMessage(), e);
    }
  }

  /**
   * CPU-seconds between two samples: "total", then each group's (threads present in {@code to}; one
   * absent from {@code from} started in between and counts from zero), then "other" for what the
   * groups leave of the total (threads that ended, and threads in no group).
   */
  public Map<String, Double> seconds(Sample from, Sample to, double ticksPerSecond) {
    Map<String, Double> out = new LinkedHashMap<>();
    if (from == null || to == null) {
      return out;
    }
    long total = to.totalTicks() - from.totalTicks();
    Map<String, Long> groups = new TreeMap<>();
    long grouped = 0;
    for (Map.Entry<Long, Thread> e : to.threads().entrySet()) {
      String group = groupOf.apply(e.getValue().name());
      if (group == null) {
        continue;
      }
      Thread before = from.threads().get(e.getKey());
      long delta = e.getValue().ticks() - (before == null ? 0 : before.ticks());
      groups.merge(group, delta, Long::sum);
      grouped += delta;
    }
    out.put("total", total / ticksPerSecond);
    groups.forEach((g, t) -> out.put(g, t / ticksPerSecond));
    out.put("other", Math.max(0, total - grouped) / ticksPerSecond);
    return out;
  }

  /** Per-thread-name CPU-seconds between two samples, busiest first (for finding the groups). */
  public static Map<String, Double> byName(Sample from, Sample to, double ticksPerSecond) {
    Map<String, Long> names = new HashMap<>();
    for (Map.Entry<Long, Thread> e : to.threads().entrySet()) {
      Thread before = from.threads().get(e.getKey());
      String name = e.getValue().name().replaceAll("[0-9]+$", "N");
      names.merge(name, e.getValue().ticks() - (before == null ? 0 : before.ticks()), Long::sum);
    }
    Map<String, Double> out = new LinkedHashMap<>();
    names.entrySet().stream()
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .filter(e -> e.getValue() > 0)
        .forEach(e -> out.put(e.getKey(), e.getValue() / ticksPerSecond));
    return out;
  }

  /**
   * The node's thread groups: "ingest" (event loops, the WAL writer, Vert.x workers), "buffer"
   * (RocksDB's background memtable flushes and compactions), "flush" (the flusher, its file writers
   * and the S3 / Iceberg threads they use), "jvm" (garbage collection, JIT compilers).
   */
  public static String nodeGroup(String thread) {
    if (thread.startsWith("floe-flusher")
        || thread.startsWith("floe-file-writ")
        || thread.startsWith("iceberg-")
        || thread.startsWith("s3-")
        || thread.startsWith("sdk-")
        || thread.startsWith("aws-")) {
      return "flush";
    }
    if (thread.startsWith("vert.x-eventloo")
        || thread.startsWith("vert.x-worker")
        || thread.startsWith("floe-wal-writer")) {
      return "ingest";
    }
    if (thread.startsWith("rocksdb")) {
      return "buffer";
    }
    return jvmGroup(thread);
  }

  /** Threads of the JVM itself (collector, compilers), "jvm"; others none. */
  static String jvmGroup(String thread) {
    if (thread.startsWith("GC Thread")
        || thread.startsWith("G1 ")
        || thread.contains("CompilerThre")
        || thread.equals("VM Thread")) {
      return "jvm";
    }
    return null;
  }
}
