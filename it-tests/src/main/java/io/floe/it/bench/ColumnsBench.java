package io.floe.it.bench;

import com.sun.management.OperatingSystemMXBean;
import io.floe.catalog.columns.ColumnMappings;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.service.CatalogService;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.columns.ColumnSet;
import io.floe.node.config.NodeConfig;
import io.floe.node.decode.DecodeBudget;
import io.floe.node.decode.FieldNames;
import io.floe.node.decode.RequestDecoder;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;

/**
 * What typed columns cost a node, with 0, 5 and 20 promoted columns ({@code reject}) over the same
 * 1 KiB events: decode (the decoder and the columns' check alone, one thread: MB/s and CPU seconds
 * per GB), ingest (the node over HTTP, two connections: decode, check, RocksDB write with async
 * durability; process CPU per GB, client included) and flush (one writer: read RocksDB, sort, fill
 * the columns, encode Parquet, upload, commit: MB/s and process CPU seconds per GB). Each variant
 * runs twice in turn; the second round is reported, as ratios against 0 columns measured in the
 * same run.
 *
 * <p>usage: ColumnsBench [--mb 128] [--dir .floe/bench-columns]; last line {@code columns:
 * ingest_mbps_0=.. ingest_mbps_5=.. ingest_mbps_20=.. flush_mbps_0=.. flush_mbps_5=..
 * flush_mbps_20=.. ingest_ratio_5=.. flush_ratio_5=..}
 */
public final class ColumnsBench {
  private static final String[][] COLUMNS = {
    {"user_id", "long", "user.id"},
    {"session", "string", "session"},
    {"amount", "decimal(12,2)", "order.amount"},
    {"at", "timestamptz", "at"},
    {"country", "string", "geo.country"},
    {"os", "string", "device.os"},
    {"os_version", "int", "device.version"},
    {"price", "double", "order.price"},
    {"qty", "int", "order.qty"},
    {"ok", "boolean", "ok"},
    {"item", "uuid", "order.item"},
    {"day", "date", "day"},
    {"tags", "list<string>", "tags"},
    {"ref", "string", "ref"},
    {"score", "double", "score"},
    {"latency_ms", "long", "latency_ms"},
    {"page", "string", "page"},
    {"referrer", "string", "referrer"},
    {"campaign", "string", "campaign"},
    {"cart_total", "decimal(12,2)", "order.cart_total"}
  };
  private static final int[] VARIANTS = {0, 5, 20};

  private ColumnsBench() {}

  /** Decode + check alone; the node over HTTP (decode, check, RocksDB); the flush. */
  private record Figures(
      double decodeMbps,
      double decodeCpuPerGb,
      double ingestMbps,
      double ingestCpuPerGb,
      double flushMbps,
      double flushCpuPerGb) {}

  public static void main(String[] args) throws Exception {
    int mb = 128;
    Path dir = Path.of(".floe/bench-columns");
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--mb" -> mb = Integer.parseInt(args[i + 1]);
        case "--dir" -> dir = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    FlushBench.deleteTree(dir);
    List<byte[]> bodies = bodies(mb);
    long bytes = bodies.stream().mapToLong(b -> b.length).sum();
    System.out.printf(
        "columns bench: %d MB of 1 KiB NDJSON events in %d requests, %d cores, Java %s%n",
        bytes >> 20, bodies.size(), Runtime.getRuntime().availableProcessors(), Runtime.version());
    Map<Integer, Figures> last = new HashMap<>(); // the best of the rounds
    try (LocalS3 s3 = LocalS3.start(dir.resolve("s3"), 0, "floe");
        CatalogService service =
            LocalCatalog.start(dir.resolve("catalog.db"), s3.fileIoProperties(), Map.of())) {
      for (int round = 1; round <= 3; round++) {
        for (int columns : VARIANTS) {
          Figures f = run(service, dir, bodies, bytes, columns, round);
          System.out.printf(
              Locale.ROOT,
              "round %d  %2d columns: decode %7.1f MB/s %5.2f CPU s/GB   ingest %6.1f MB/s"
                  + " %6.2f CPU s/GB   flush %6.1f MB/s %6.2f CPU s/GB%n",
              round,
              columns,
              f.decodeMbps(),
              f.decodeCpuPerGb(),
              f.ingestMbps(),
              f.ingestCpuPerGb(),
              f.flushMbps(),
              f.flushCpuPerGb());
          last.merge(
              columns,
              f,
              (a, b) ->
                  new Figures(
                      Math.max(a.decodeMbps(), b.decodeMbps()),
                      Math.min(a.decodeCpuPerGb(), b.decodeCpuPerGb()),
                      Math.max(a.ingestMbps(), b.ingestMbps()),
                      Math.min(a.ingestCpuPerGb(), b.ingestCpuPerGb()),
                      Math.max(a.flushMbps(), b.flushMbps()),
                      Math.min(a.flushCpuPerGb(), b.flushCpuPerGb())));
        }
      }
    }
    Figures base = last.get(0);
    for (int columns : new int[] {5, 20}) {
      Figures f = last.get(columns);
      System.out.printf(
          Locale.ROOT,
          "%d columns vs 0: decode %.2fx MB/s (%.2fx CPU/GB), ingest %.2fx MB/s (%.2fx CPU/GB),"
              + " flush %.2fx MB/s (%.2fx CPU/GB)%n",
          columns,
          f.decodeMbps() / base.decodeMbps(),
          f.decodeCpuPerGb() / base.decodeCpuPerGb(),
          f.ingestMbps() / base.ingestMbps(),
          f.ingestCpuPerGb() / base.ingestCpuPerGb(),
          f.flushMbps() / base.flushMbps(),
          f.flushCpuPerGb() / base.flushCpuPerGb());
    }
    System.out.printf(
        Locale.ROOT,
        "columns: ingest_mbps_0=%.1f ingest_mbps_5=%.1f ingest_mbps_20=%.1f flush_mbps_0=%.1f"
            + " flush_mbps_5=%.1f flush_mbps_20=%.1f ingest_ratio_5=%.2f flush_ratio_5=%.2f%n",
        last.get(0).ingestMbps(),
        last.get(5).ingestMbps(),
        last.get(20).ingestMbps(),
        last.get(0).flushMbps(),
        last.get(5).flushMbps(),
        last.get(20).flushMbps(),
        last.get(5).ingestMbps() / base.ingestMbps(),
        last.get(5).flushMbps() / base.flushMbps());
  }

  private static Figures run(
      CatalogService service, Path dir, List<byte[]> bodies, long bytes, int columns, int round)
      throws Exception {
    String name = "events_c" + columns + "_r" + round;
    Catalog catalog = service.catalog();
    Map<String, String> settings = new HashMap<>(Map.of("table.name", name));
    Table table = EventsTable.ensure(catalog, TableSettings.load(Settings.of(settings)));
    for (int c = 0; c < columns; c++) {
      ColumnMappings.add(
          table,
          new ColumnMappings.Request(
              COLUMNS[c][0], COLUMNS[c][1], COLUMNS[c][2], List.of(), "reject"));
    }
    table.refresh();
    ColumnSet set = ColumnSet.of(table);

    // ingest: decode and check every body, one thread, as an event loop does; the best of three
    // passes
    RequestDecoder decoder = new RequestDecoder(64L << 20, 1L << 20);
    FieldNames fields = new FieldNames("key", "event_time");
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    double ingestSeconds = Double.MAX_VALUE;
    double ingestCpu = Double.MAX_VALUE;
    for (int pass = 0; pass < 3; pass++) {
      System.gc();
      long cpu0 = threads.getCurrentThreadCpuTime();
      long t0 = System.nanoTime();
      for (byte[] body : bodies) {
        decoder.decode(
            "clicks",
            RequestDecoder.Format.NDJSON,
            null,
            body,
            body.length,
            fields,
            1_795_399_200_000_000L,
            DecodeBudget.UNLIMITED,
            set.rejectCheck("clicks"),
            null);
      }
      ingestSeconds = Math.min(ingestSeconds, (System.nanoTime() - t0) / 1e9);
      ingestCpu = Math.min(ingestCpu, (threads.getCurrentThreadCpuTime() - cpu0) / 1e9);
    }

    // flush: the same events through one writer, columns filled
    Map<String, String> s =
        FlushBench.nodeSettings(dir.resolve("node-" + name), service.port(), name, 1);
    double flushSeconds;
    double flushCpu;
    double httpSeconds;
    double httpCpu;
    try (Node node = Node.start(NodeConfig.load(Settings.of(s)))) {
      if (node.columns().active().size() != columns) {
        throw new IllegalStateException(
            "the node fills " + node.columns().active().size() + " columns, not " + columns);
      }
      // ingest through HTTP, as producers send: two connections, the node decodes, checks and
      // writes RocksDB
      var os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
      System.gc();
      long hcpu0 = os.getProcessCpuTime();
      long h0 = System.nanoTime();
      post(node.port(), bodies);
      httpSeconds = (System.nanoTime() - h0) / 1e9;
      httpCpu = (os.getProcessCpuTime() - hcpu0) / 1e9;
      System.gc();
      long pcpu0 = os.getProcessCpuTime();
      long f0 = System.nanoTime();
      node.flusher().flushNow().get();
      flushSeconds = (System.nanoTime() - f0) / 1e9;
      flushCpu = (os.getProcessCpuTime() - pcpu0) / 1e9;
    }
    double gb = bytes / 1e9;
    return new Figures(
        bytes / 1e6 / ingestSeconds,
        ingestCpu / gb,
        bytes / 1e6 / httpSeconds,
        httpCpu / gb,
        bytes / 1e6 / flushSeconds,
        flushCpu / gb);
  }

  /** Sends every body to the node over two keep-alive connections; each must be acknowledged. */
  private static void post(int port, List<byte[]> bodies) throws Exception {
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    URI uri = URI.create("http://127.0.0.1:" + port + "/v1/streams/clicks/events");
    List<Thread> senders = new ArrayList<>();
    AtomicReference<String> failure = new AtomicReference<>();
    for (int t = 0; t < 2; t++) {
      int first = t;
      Thread sender =
          new Thread(
              () -> {
                for (int i = first; i < bodies.size() && failure.get() == null; i += 2) {
                  try {
                    HttpResponse<String> r =
                        http.send(
                            HttpRequest.newBuilder(uri)
                                .header("Content-Type", "application/x-ndjson")
                                .POST(HttpRequest.BodyPublishers.ofByteArray(bodies.get(i)))
                                .build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) {
                      failure.set(r.statusCode() + " " + r.body());
                    }
                  } catch (Exception e) {
                    failure.set(e.toString());
                  }
                }
              });
      senders.add(sender);
      sender.start();
    }
    for (Thread sender : senders) {
      sender.join();
    }
    if (failure.get() != null) {
      throw new IllegalStateException("ingest failed: " + failure.get());
    }
  }

  /** NDJSON request bodies of 1,000 events of ~1 KiB, every event carrying all 20 fields. */
  private static List<byte[]> bodies(int mb) {
    SplittableRandom random = new SplittableRandom(11);
    String[] words = {"click", "view", "purchase", "signup", "search", "logout", "cart", "home"};
    String[] countries = {"DE", "FR", "US", "BR", "JP", "IN"};
    List<byte[]> out = new ArrayList<>();
    long total = 0;
    while (total < (long) mb << 20) {
      StringBuilder body = new StringBuilder(1100 * 1000);
      for (int i = 0; i < 1000; i++) {
        StringBuilder e = new StringBuilder(1100);
        e.append("{\"user\":{\"id\":")
            .append(random.nextInt(1_000_000))
            .append(",\"name\":\"u")
            .append(random.nextInt(100_000))
            .append("\"},\"session\":\"s")
            .append(random.nextLong(1L << 40))
            .append("\",\"order\":{\"amount\":")
            .append(random.nextInt(100_000))
            .append('.')
            .append(10 + random.nextInt(90))
            .append(",\"price\":")
            .append(random.nextDouble() * 100)
            .append(",\"qty\":")
            .append(random.nextInt(20))
            .append(",\"item\":\"")
            .append(new UUID(random.nextLong(), random.nextLong()))
            .append("\",\"cart_total\":\"")
            .append(random.nextInt(1_000_000))
            .append(".00\"},\"at\":\"2026-12-03T10:")
            .append(10 + random.nextInt(50))
            .append(":00.123Z\",\"geo\":{\"country\":\"")
            .append(countries[random.nextInt(countries.length)])
            .append("\"},\"device\":{\"os\":\"android\",\"version\":")
            .append(random.nextInt(15))
            .append("},\"ok\":")
            .append(random.nextBoolean())
            .append(",\"day\":\"2026-12-0")
            .append(1 + random.nextInt(9))
            .append("\",\"tags\":[\"")
            .append(words[random.nextInt(words.length)])
            .append("\",\"")
            .append(words[random.nextInt(words.length)])
            .append("\"],\"ref\":\"r")
            .append(random.nextInt(1000))
            .append("\",\"score\":")
            .append(random.nextDouble())
            .append(",\"latency_ms\":")
            .append(random.nextInt(5000))
            .append(",\"page\":\"/p/")
            .append(random.nextInt(10_000))
            .append("\",\"referrer\":\"https://example.com/")
            .append(random.nextInt(1000))
            .append("\",\"campaign\":\"c")
            .append(random.nextInt(50))
            .append("\",\"text\":\"");
        while (e.length() < 1022) {
          e.append(words[random.nextInt(words.length)]).append(' ');
        }
        e.setLength(1022);
        e.append("\"}");
        body.append(e).append('\n');
      }
      byte[] b = body.toString().getBytes(StandardCharsets.UTF_8);
      total += b.length;
      out.add(b);
    }
    return out;
  }
}
