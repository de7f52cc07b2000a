package io.floe.it.bench;

import io.floe.catalog.local.LocalS3;
import io.floe.catalog.service.CatalogService;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.config.Settings;
import io.floe.it.load.ProcessCpu;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.floe.node.event.EventBatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * Flush throughput per compression codec: fills a node's buffer with the same events, then times
 * one flush (read RocksDB, sort, encode Parquet, upload to a local S3-compatible server, commit)
 * with one file writer, so the figure is per core. Prints one line per codec and a summary line.
 *
 * <p>usage: FlushBench [--mb 256] [--payload 1024] [--dir .floe/bench-flush] [--writers 1] [--hours
 * 2] (event times spread over that many hour partitions; 1 is the hot partition of real-time data)
 *
 * <p>{@code --cpu} measures instead what the flush path costs in CPU: one node (codec {@code
 * --codec}, default zstd) flushes {@code --flushes} times {@code --flush-mb} MB (after {@code
 * --warmup} flushes not counted), the size of a 5 s flush of a loaded node, and the thread CPU of
 * each flush (from {@code /proc}, grouped as {@link ProcessCpu#nodeGroup}) is divided by the bytes
 * flushed. Thread CPU is what to compare on a shared machine: unlike wall time it hardly moves when
 * other processes take the cores.
 */
public final class FlushBench {
  private FlushBench() {}

  public static void main(String[] args) throws Exception {
    int mb = 256;
    int payload = 1024;
    int writers = 1;
    int hours = 2;
    Path dir = Path.of(".floe/bench-flush");
    boolean cpu = false;
    int flushMb = 16;
    int flushes = 8;
    int warmup = 3;
    String cpuCodec = "zstd";
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--cpu")) {
        cpu = true;
        i--;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException("option " + args[i] + " needs a value");
      }
      switch (args[i]) {
        case "--flush-mb" -> flushMb = Integer.parseInt(args[i + 1]);
        case "--flushes" -> flushes = Integer.parseInt(args[i + 1]);
        case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
        case "--codec" -> cpuCodec = args[i + 1];
        case "--mb" -> mb = Integer.parseInt(args[i + 1]);
        case "--payload" -> payload = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        case "--writers" -> writers = Integer.parseInt(args[i + 1]);
        case "--hours" -> hours = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    deleteTree(dir);
    if (cpu) {
      cpuPerGb(dir, payload, hours, writers, cpuCodec, flushMb, flushes, warmup);
      return;
    }
    List<EventBatch> batches = batches(mb, payload, hours);
    long rawBytes = batches.stream().mapToLong(EventBatch::sizeBytes).sum();
    System.out.printf(
        "flush bench: %d MB of %d-byte events (%d batches) over %d hour partition(s), %d writer(s), "
            + "%d cores%n",
        rawBytes >> 20,
        payload,
        batches.size(),
        hours,
        writers,
        Runtime.getRuntime().availableProcessors());
    System.out.printf(
        "%-13s %10s %12s %14s %14s %8s%n",
        "codec", "seconds", "parquet_MB", "input_MB/s", "parquet_MB/s", "ratio");
    Map<String, Double> inputMbs = new LinkedHashMap<>();
    Map<String, Double> parquetRatio = new LinkedHashMap<>();
    try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, "floe")) {
      try (CatalogService service =
          LocalCatalog.start(dir.resolve("catalog.db"), s3.fileIoProperties(), Map.of())) {
        for (String codec : List.of("uncompressed", "snappy", "zstd")) {
          Map<String, String> s =
              nodeSettings(
                  dir.resolve("node-" + codec), service.port(), "events_" + codec, writers);
          s.put("table.compression", codec);
          try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
            for (int i = 0; i < batches.size(); i += 64) {
              node.buffer().append(batches.subList(i, Math.min(batches.size(), i + 64)));
            }
            long start = System.nanoTime();
            node.flusher().flushNow().get();
            double seconds = (System.nanoTime() - start) / 1e9;
            long parquet =
                Files.walk(dir.resolve("s3/floe"))
                    .filter(
                        p ->
                            p.toString().contains("events_" + codec)
                                && p.toString().endsWith(".parquet"))
                    .mapToLong(FlushBench::size)
                    .sum();
            System.out.printf(
                "%-13s %10.2f %12.1f %14.1f %14.1f %8.2f%n",
                codec,
                seconds,
                parquet / 1e6,
                rawBytes / 1e6 / seconds,
                parquet / 1e6 / seconds,
                (double) parquet / rawBytes);
            inputMbs.put(codec, rawBytes / 1e6 / seconds);
            parquetRatio.put(codec, (double) parquet / rawBytes);
          }
        }
      }
    }
    System.out.printf(
        Locale.ROOT,
        "flush: input_mb=%d writers=%d hours=%d uncompressed_mbs=%.1f snappy_mbs=%.1f zstd_mbs=%.1f"
            + " zstd_size_ratio=%.3f%n",
        rawBytes >> 20,
        writers,
        hours,
        inputMbs.get("uncompressed"),
        inputMbs.get("snappy"),
        inputMbs.get("zstd"),
        parquetRatio.get("zstd"));
  }

  /**
   * CPU-seconds per GB of the flush path: {@code flushes} flushes of {@code flushMb} MB each
   * through one node, after {@code warmup} uncounted ones (JIT compilation), each flush's thread
   * CPU read around it. Prints the groups' CPU-s/GB and ends with {@code flush-cpu: ...}.
   */
  private static void cpuPerGb(
      Path dir,
      int payload,
      int hours,
      int writers,
      String codec,
      int flushMb,
      int flushes,
      int warmup)
      throws Exception {
    List<EventBatch> batches = batches(flushMb, payload, hours);
    long rawBytes = batches.stream().mapToLong(EventBatch::sizeBytes).sum();
    System.out.printf(
        "flush cpu bench: %d+%d flushes of %.1f MB of %d-byte events over %d hour partition(s),"
            + " %s, %d writer(s)%n",
        warmup, flushes, rawBytes / 1e6, payload, hours, codec, writers);
    ProcessCpu cpu =
        new ProcessCpu("flush-bench", ProcessHandle.current().pid(), FlushBench::threadGroup);
    Map<String, Double> seconds = new TreeMap<>();
    List<Double> perFlush = new ArrayList<>();
    double wall = 0;
    long files = 0;
    long parquetBytes = 0;
    try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, "floe")) {
      try (CatalogService service =
          LocalCatalog.start(dir.resolve("catalog.db"), s3.fileIoProperties(), Map.of())) {
        Map<String, String> s =
            nodeSettings(dir.resolve("node"), service.port(), "events_cpu", writers);
        s.put("table.compression", codec);
        try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
          for (int f = 0; f < warmup + flushes; f++) {
            for (int i = 0; i < batches.size(); i += 64) {
              node.buffer().append(batches.subList(i, Math.min(batches.size(), i + 64)));
            }
            long filesBefore = parquetFiles(dir).size();
            long bytesBefore = parquetFiles(dir).stream().mapToLong(FlushBench::size).sum();
            ProcessCpu.Sample from = cpu.sample();
            long start = System.nanoTime();
            node.flusher().flushNow().get();
            double w = (System.nanoTime() - start) / 1e9;
            ProcessCpu.Sample to = cpu.sample();
            if (f < warmup) {
              continue;
            }
            wall += w;
            Map<String, Double> one = cpu.seconds(from, to, ProcessCpu.DEFAULT_TICKS_PER_SECOND);
            one.forEach((g, v) -> seconds.merge(g, v, Double::sum));
            perFlush.add(one.getOrDefault("flush", 0.0) / (rawBytes / 1e9));
            List<Path> now = parquetFiles(dir);
            files += now.size() - filesBefore;
            parquetBytes += now.stream().mapToLong(FlushBench::size).sum() - bytesBefore;
          }
        }
      }
    }
    double gb = (double) rawBytes * flushes / 1e9;
    StringBuilder groups = new StringBuilder();
    seconds.forEach((g, v) -> groups.append(String.format(Locale.ROOT, " %s=%.2f", g, v / gb)));
    System.out.printf("CPU-s/GB by thread group:%s%n", groups);
    List<Double> sorted = perFlush.stream().sorted().toList();
    System.out.printf(
        Locale.ROOT,
        "flush threads' CPU-s/GB per flush: %s%n",
        perFlush.stream().map(v -> String.format(Locale.ROOT, "%.1f", v)).toList());
    double median = (sorted.get((sorted.size() - 1) / 2) + sorted.get(sorted.size() / 2)) / 2;
    System.out.printf(
        Locale.ROOT,
        "flush-cpu: input_mb=%.0f flushes=%d files=%d parquet_mb=%.1f flush_cpu_s_per_gb=%.2f"
            + " flush_cpu_s_per_gb_median=%.2f gc_cpu_s_per_gb=%.2f jit_cpu_s_per_gb=%.2f process_cpu_s_per_gb=%.2f"
            + " input_mbs=%.1f%n",
        rawBytes * flushes / 1e6,
        flushes,
        files,
        parquetBytes / 1e6,
        seconds.getOrDefault("flush", 0.0) / gb,
        median,
        seconds.getOrDefault("gc", 0.0) / gb,
        seconds.getOrDefault("jit", 0.0) / gb,
        seconds.getOrDefault("total", 0.0) / gb,
        rawBytes * flushes / 1e6 / wall);
  }

  /**
   * The node's thread groups ({@link ProcessCpu#nodeGroup}), the JVM's split into "gc" (the
   * collector and VM thread, driven by what the flush allocates) and "jit" (the compilers, which
   * the warm-up flushes should have mostly done with).
   */
  private static String threadGroup(String thread) {
    String group = ProcessCpu.nodeGroup(thread);
    if ("jvm".equals(group)) {
      return thread.contains("CompilerThre") ? "jit" : "gc";
    }
    return group;
  }

  private static List<Path> parquetFiles(Path dir) throws IOException {
    Path root = dir.resolve("s3/floe");
    if (!Files.exists(root)) {
      return List.of();
    }
    try (var paths = Files.walk(root)) {
      return paths.filter(p -> p.toString().endsWith(".parquet")).toList();
    }
  }

  /**
   * A loopback node that flushes only when asked, everything in one flush, with {@code writers}
   * file writers, into table {@code table} of the catalog service on {@code catalogPort}.
   */
  static Map<String, String> nodeSettings(
      Path bufferDir, int catalogPort, String table, int writers) {
    Map<String, String> s = new HashMap<>();
    s.put("node.partition-id", "0");
    s.put("http.port", "0");
    s.put("http.host", "127.0.0.1");
    s.put("auth.disabled", "true"); // a loopback benchmark of the flush path
    s.put("buffer.dir", bufferDir.toString());
    s.put("buffer.durability", "async");
    s.put("catalog.uri", "http://127.0.0.1:" + catalogPort);
    s.put(
        "catalog.s3.multipart.part-size-bytes", Long.toString(1L << 30)); // see scripts/quickstart
    s.put("table.name", table);
    s.put("flush.max-age-seconds", "86400");
    s.put("flush.trigger-bytes", "64GiB");
    s.put("flush.max-bytes", "64GiB");
    s.put("flush.max-concurrency", Integer.toString(writers));
    return s;
  }

  private static List<EventBatch> batches(int mb, int payload, int hours) {
    SplittableRandom random = new SplittableRandom(7);
    List<EventBatch> out = new ArrayList<>();
    long total = 0;
    long t0 = 1_795_399_200_000_000L; // on an hour boundary
    String[] words = {"click", "view", "purchase", "signup", "search", "logout", "cart", "home"};
    while (total < (long) mb << 20) {
      EventBatch.Builder b =
          new EventBatch.Builder("stream" + random.nextInt(4), t0, 1000 * (payload + 40));
      for (int i = 0; i < 1000; i++) {
        long t = t0 + random.nextLong(hours * 3_600_000_000L);
        StringBuilder json =
            new StringBuilder("{\"user\":\"u")
                .append(random.nextInt(100_000))
                .append("\",\"action\":\"")
                .append(words[random.nextInt(words.length)])
                .append("\",\"text\":\"");
        while (json.length() < payload - 2) {
          json.append(words[random.nextInt(words.length)])
              .append(' ')
              .append(random.nextInt(1000))
              .append(' ');
        }
        json.setLength(payload - 2);
        json.append("\"}");
        byte[] p = json.toString().getBytes(StandardCharsets.UTF_8);
        b.add(t, ("u" + random.nextInt(1000)).getBytes(StandardCharsets.UTF_8), p, 0, p.length);
      }
      EventBatch batch = b.build();
      total += batch.sizeBytes();
      out.add(EventBatch.fromStored(batch.toByteArray()));
    }
    return out;
  }

  private static long size(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }

  static void deleteTree(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (var paths = Files.walk(dir)) {
        paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
