package io.floe.it.bench;

import io.floe.catalog.local.LocalS3;
import io.floe.catalog.service.CatalogService;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.config.Settings;
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

/**
 * Flush throughput per compression codec: fills a node's buffer with the same events, then times
 * one flush (read RocksDB, sort, encode Parquet, upload to a local S3-compatible server, commit)
 * with one file writer, so the figure is per core. Prints one line per codec and a summary line.
 *
 * <p>usage: FlushBench [--mb 256] [--payload 1024] [--dir .floe/bench-flush] [--writers 1] [--hours
 * 2] (event times spread over that many hour partitions; 1 is the hot partition of real-time data)
 */
public final class FlushBench {
  private FlushBench() {}

  public static void main(String[] args) throws Exception {
    int mb = 256;
    int payload = 1024;
    int writers = 1;
    int hours = 2;
    Path dir = Path.of(".floe/bench-flush");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--mb" -> mb = Integer.parseInt(args[i + 1]);
        case "--payload" -> payload = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        case "--writers" -> writers = Integer.parseInt(args[i + 1]);
        case "--hours" -> hours = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    deleteTree(dir);
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
