package io.floe.it.bench;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;

/**
 * The commit path at scale with real nodes: the producer and the measuring side of {@code
 * scripts/bench-scale --real}, which starts the local S3 server, the catalog service and N node
 * processes. Every node gets a small batch at a fixed rate; after a warm-up, over a window:
 *
 * <ul>
 *   <li>commits: the table's snapshots whose timestamp falls in the window (read through the
 *       catalog at the end, with manifests of the current snapshot, all snapshots and the current
 *       metadata.json's size);
 *   <li>attempts: the nodes' {@code floe_commit_attempts_total} plus {@code
 *       floe_coordinator_commit_attempts_total} (Prometheus, summed over the nodes) at the window's
 *       end minus its start;
 *   <li>visible: for every request acknowledged in the window, from its acknowledgement until the
 *       table's {@code floe.partition.<p>.committed-sequence} reaches its last sequence (the table
 *       polled through the catalog every 250 ms);
 *   <li>node table loads: {@code floe_catalog_requests_total{operation="load_table",caller="node"}}
 *       of the catalog service over the window.
 * </ul>
 *
 * <p>One line: {@code scale: mode=.. writers=N real=true commits_per_s=.. attempts_per_commit=..
 * visible_p50_ms=.. visible_p99_ms=.. manifests=.. snapshots=.. metadata_bytes=..
 * node_table_loads_per_s=.. commits=.. acked=.. lag_unresolved=.. own_loads_per_s=..
 * view_loads_per_s=..} (own: the nodes' floe_node_table_reads_total, the committer's loads left
 * out; view: the committer's floe_coordinator_view_loads_total).
 *
 * <p>usage: RealScaleBench --mode direct|coordinated --nodes URL,URL.. --catalog URL --ingest-token
 * T --read-token T (read: /metrics) --catalog-token T (catalog:read) [--warmup 20] [--seconds 60]
 * [--rate 4] [--batch 20] [--payload 200]
 */
public final class RealScaleBench {
  private static final long POLL_MILLIS = 250;
  private static final TableIdentifier TABLE = EventsTable.identifier(TableSettings.defaults());

  private record Sample(int partition, long lastSequence, long ackedNanos) {}

  /** HTTP/1.1: the JDK client's h2c upgrade caps the requests in flight per node. */
  private final HttpClient http =
      HttpClient.newBuilder()
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .build();

  private final Map<String, String> opts;
  private final List<URI> nodes = new ArrayList<>();
  private final URI catalog;
  private final ConcurrentLinkedQueue<Sample> pending = new ConcurrentLinkedQueue<>();
  private final List<Long> lagsMillis = new ArrayList<>();
  private final AtomicLong acked = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private volatile boolean sampling;

  private RealScaleBench(Map<String, String> opts) {
    this.opts = opts;
    for (String n : need("--nodes").split(",")) {
      nodes.add(URI.create(n));
    }
    this.catalog = URI.create(need("--catalog"));
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> opts = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opts.put(args[i], args[i + 1]);
    }
    System.out.println(new RealScaleBench(opts).run());
    System.exit(0);
  }

  private String need(String name) {
    String v = opts.get(name);
    if (v == null) {
      throw new IllegalArgumentException("missing " + name);
    }
    return v;
  }

  private int number(String name, int fallback) {
    return Integer.parseInt(opts.getOrDefault(name, Integer.toString(fallback)));
  }

  private String run() throws Exception {
    String mode = need("--mode");
    int warmup = number("--warmup", 20);
    int seconds = number("--seconds", 60);
    int rate = number("--rate", 4);
    int batch = number("--batch", 20);
    int payload = number("--payload", 200);
    ScheduledExecutorService clock = Executors.newScheduledThreadPool(2);
    for (int i = 0; i < nodes.size(); i++) {
      URI node = nodes.get(i);
      int index = i;
      // spread the nodes' sends over the period
      long periodMicros = 1_000_000L / rate;
      clock.scheduleAtFixedRate(
          () -> send(node, index, batch, payload),
          periodMicros * i / nodes.size(),
          periodMicros,
          TimeUnit.MICROSECONDS);
    }
    clock.scheduleWithFixedDelay(this::poll, POLL_MILLIS, POLL_MILLIS, TimeUnit.MILLISECONDS);
    Thread.sleep(warmup * 1000L);

    double[] startMetrics = scrape();
    long t0 = System.currentTimeMillis();
    sampling = true;
    Thread.sleep(seconds * 1000L);
    sampling = false;
    long t1 = System.currentTimeMillis();
    double[] endMetrics = scrape();
    // the window's acknowledgements become visible after it: keep writing (flushes stay as they
    // were) until they are, for at most a minute
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!pending.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(POLL_MILLIS);
    }
    clock.shutdownNow();
    clock.awaitTermination(10, TimeUnit.SECONDS);

    Catalog reader =
        CatalogConnector.open(
            "bench",
            Map.of(
                "type",
                "rest",
                "uri",
                catalog.toString(),
                "token",
                need("--catalog-token"),
                CatalogConnector.VENDED_CREDENTIALS_HEADER,
                "vended-credentials"));
    Table t = reader.loadTable(TABLE);
    long commits = 0;
    int snapshots = 0;
    for (Snapshot s : t.snapshots()) {
      snapshots++;
      if (s.timestampMillis() >= t0 && s.timestampMillis() < t1) {
        commits++;
      }
    }
    int manifests = t.currentSnapshot().dataManifests(t.io()).size();
    String location = ((HasTableOperations) t).operations().current().metadataFileLocation();
    long metadataBytes = t.io().newInputFile(location).getLength();
    double window = (t1 - t0) / 1000.0;
    double attempts = endMetrics[0] - startMetrics[0];
    double loads = endMetrics[1] - startMetrics[1];
    long[] lags;
    synchronized (lagsMillis) {
      lags = lagsMillis.stream().mapToLong(Long::longValue).sorted().toArray();
    }
    return String.format(
        Locale.ROOT,
        "scale: mode=%s writers=%d real=true commits_per_s=%.2f attempts_per_commit=%.2f"
            + " visible_p50_ms=%d visible_p99_ms=%d manifests=%d snapshots=%d metadata_bytes=%d"
            + " node_table_loads_per_s=%.2f commits=%d acked=%d failed=%d lag_unresolved=%d"
            + " own_loads_per_s=%.2f view_loads_per_s=%.2f",
        mode,
        nodes.size(),
        commits / window,
        commits == 0 ? 0.0 : attempts / commits,
        percentile(lags, 0.50),
        percentile(lags, 0.99),
        manifests,
        snapshots,
        metadataBytes,
        loads / window,
        commits,
        acked.get(),
        failed.get(),
        pending.size(),
        (endMetrics[2] - startMetrics[2]) / window,
        (endMetrics[3] - startMetrics[3]) / window);
  }

  private void send(URI node, int index, int batch, int payload) {
    StringBuilder body = new StringBuilder();
    String time = Instant.now().toString();
    String pad = "x".repeat(payload);
    for (int i = 0; i < batch; i++) {
      body.append("{\"key\":\"k-")
          .append(index)
          .append('-')
          .append(i)
          .append("\",\"event_time\":\"")
          .append(time)
          .append("\",\"pad\":\"")
          .append(pad)
          .append("\"}\n");
    }
    HttpRequest request =
        HttpRequest.newBuilder(node.resolve("/v1/streams/bench/events"))
            .timeout(Duration.ofSeconds(30))
            .header("Authorization", "Bearer " + need("--ingest-token"))
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build();
    boolean inWindow = sampling;
    http.sendAsync(request, HttpResponse.BodyHandlers.ofString())
        .whenComplete(
            (r, e) -> {
              long now = System.nanoTime();
              if (e != null || r.statusCode() != 200) {
                failed.incrementAndGet();
                return;
              }
              if (inWindow && sampling) {
                acked.incrementAndGet();
                JsonObject ack = new JsonObject(r.body());
                pending.add(
                    new Sample(ack.getInteger("partition_id"), ack.getLong("last_sequence"), now));
              }
            });
  }

  /** One table load through the catalog (a catalog:read token: not a node's load). */
  private void poll() {
    if (pending.isEmpty()) {
      return;
    }
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(
                      catalog.resolve(
                          "/v1/namespaces/" + TABLE.namespace() + "/tables/" + TABLE.name()))
                  .timeout(Duration.ofSeconds(30))
                  .header("Authorization", "Bearer " + need("--catalog-token"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return;
      }
      long now = System.nanoTime();
      JsonObject props =
          new JsonObject(r.body())
              .getJsonObject("metadata")
              .getJsonObject("properties", new JsonObject());
      for (Iterator<Sample> it = pending.iterator(); it.hasNext(); ) {
        Sample s = it.next();
        Object committed = props.getValue(FloeTableKeys.partitionCommittedSequence(s.partition()));
        if (committed != null && Long.parseLong(committed.toString()) >= s.lastSequence()) {
          synchronized (lagsMillis) {
            lagsMillis.add(Math.max(0, (now - s.ackedNanos()) / 1_000_000));
          }
          it.remove();
        }
      }
    } catch (Exception e) {
      // the next poll tries again
    }
  }

  /**
   * {attempts summed over the nodes, the catalog's node table loads, the nodes' own table loads
   * (floe_node_table_reads_total: the committer's excluded), the committer's view loads}.
   */
  private double[] scrape() throws Exception {
    double attempts = 0;
    double own = 0;
    double views = 0;
    for (URI node : nodes) {
      String text = metrics(node);
      attempts +=
          value(text, "floe_commit_attempts_total")
              + value(text, "floe_coordinator_commit_attempts_total");
      for (String purpose :
          new String[] {
            "columns", "claim_check", "handover_check", "coordinator_discovery", "settings"
          }) {
        own += value(text, "floe_node_table_reads_total{purpose=\"" + purpose + "\"}");
      }
      views += value(text, "floe_coordinator_view_loads_total");
    }
    double loads =
        value(
            metrics(catalog),
            "floe_catalog_requests_total{caller=\"node\",operation=\"load_table\"}");
    return new double[] {attempts, loads, own, views};
  }

  private String metrics(URI base) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(base.resolve("/metrics"))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + need("--read-token"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(base + "/metrics answered " + r.statusCode());
    }
    return r.body();
  }

  /** The value of one series (name with its labels as written), 0 when absent. */
  static double value(String metrics, String series) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(series + " ")) {
        return Double.parseDouble(line.substring(series.length() + 1).trim().split(" ")[0]);
      }
    }
    return 0;
  }

  private static long percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return -1;
    }
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }
}
