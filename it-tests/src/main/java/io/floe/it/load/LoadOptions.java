package io.floe.it.load;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Load generator settings, from {@code --name value} arguments.
 *
 * @param target base URL of a node or router, e.g. http://127.0.0.1:8081
 * @param stream stream to write to
 * @param batchEvents events per request
 * @param payloadBytes approximate size of one event's JSON text
 * @param keys distinct event keys (0 = events carry no key)
 * @param connections keep-alive connections, each with one request in flight
 * @param duration how long to send
 * @param maxRequests stop after this many requests (bounds the run in count as well as time)
 * @param ratePerSecond target requests per second, 0 for as fast as acknowledgements come
 * @param bodies distinct pre-generated request bodies to cycle through
 * @param warmup seconds of load sent first and left out of the figures (JIT, connection set-up)
 * @param catalog Iceberg REST catalog to sample visibility lag through, or null for none
 * @param table the table, namespace.name
 * @param catalogToken bearer token for the catalog, or null
 * @param lagWait how long to wait, after the load, for the last samples to become visible
 * @param trustFile PEM certificates an https target's certificate must chain to, or null
 * @param lagSampleMillis how often an acknowledgement is sampled for visibility lag
 * @param sustained step an open-loop rate up from {@code ratePerSecond} to find the highest rate
 *     held with bounded lag (see {@link SustainedSearch})
 * @param stepFactor each step's rate over the previous one's
 * @param hold how long each step lasts
 * @param maxSteps the most steps a sustained search takes
 * @param lagLimit the visibility lag p99 a held step stays within
 * @param cpu processes whose CPU time is read from /proc over the measured window, label → pid
 * @param badPercent share of the events, in percent, replaced by malformed lines of the same size
 *     (each body's bad lines spread evenly; a stream with a dead-letter policy keeps them)
 */
public record LoadOptions(
    URI target,
    String stream,
    int batchEvents,
    int payloadBytes,
    int keys,
    int connections,
    Duration duration,
    long maxRequests,
    double ratePerSecond,
    int bodies,
    Duration warmup,
    URI catalog,
    String table,
    String catalogToken,
    Duration lagWait,
    Path trustFile,
    long lagSampleMillis,
    boolean sustained,
    double stepFactor,
    Duration hold,
    int maxSteps,
    Duration lagLimit,
    Map<String, Long> cpu,
    int badPercent) {

  static final String USAGE =
      """
      usage: load-generator [--target http://127.0.0.1:8081] [--stream bench] [--batch 1000]
                            [--payload 100] [--keys 1000] [--connections 16] [--duration 10]
                            [--max-requests 10000000] [--rate 0] [--bodies 16] [--warmup 2]
                            [--catalog http://127.0.0.1:8181 [--table floe.events]
                             [--catalog-token T] [--lag-wait 60] [--lag-sample-ms 1000]]
                            [--trust cert.pem] [--cpu node=PID,router=PID] [--bad-percent 0]
                            [--sustained --hold 60 --step-factor 1.25 --max-steps 10
                             --lag-limit 10]
        --duration is in seconds; --rate is requests/s (0 = closed loop, as fast as acks come).
        A --rate run is open loop: requests are scheduled on a clock whatever the answers, and
        latency counts from the scheduled time (a stalled server is not hidden by fewer sends).
        --sustained (needs --catalog and --rate, the first step's rate) steps the open-loop rate
        up by --step-factor every --hold seconds until the visibility lag p99 exceeds --lag-limit
        seconds, a request fails, or the answers fall behind the schedule by that much; it reports
        each step and the highest rate held (see SustainedSearch).
        --cpu reads those processes' CPU time (and the generator's own) over the measured window
        and reports CPU-seconds per GB acknowledged; a process labelled node is split by thread.
        --catalog samples visibility lag (acknowledgement until the rows are committed to the
        table) once a second, polling the table every 500 ms through that Iceberg REST catalog.
        --bad-percent replaces that share of each body's events by malformed lines of the same
        size (for a stream whose policy keeps them as dead letters; docs/dead-letters.md).
        An https:// --target is reached over TLS, trusting the PEM certificates of --trust.
        Sends only to loopback addresses. Prints progress each second on stderr and one JSON
        summary line on stdout.""";

  public static LoadOptions parse(String[] args) {
    URI target = URI.create("http://127.0.0.1:8081");
    String stream = "bench";
    int batch = 1000;
    int payload = 100;
    int keys = 1000;
    int connections = 16;
    long seconds = 10;
    long maxRequests = 10_000_000;
    double rate = 0;
    int bodies = 16;
    int warmup = 2;
    URI catalog = null;
    String table = EventsTable.identifier(TableSettings.defaults()).toString();
    String catalogToken = null;
    int lagWait = 60;
    Path trust = null;
    long lagSample = 1000;
    boolean sustained = false;
    double stepFactor = 1.25;
    int hold = 60;
    int maxSteps = 10;
    int lagLimit = 10;
    Map<String, Long> cpu = new LinkedHashMap<>();
    int badPercent = 0;
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      if (name.equals("--help") || name.equals("-h")) {
        throw new IllegalArgumentException(USAGE);
      }
      if (name.equals("--sustained")) {
        sustained = true;
        continue;
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(name + " needs a value\n" + USAGE);
      }
      String v = args[++i];
      try {
        switch (name) {
          case "--target" -> target = URI.create(v);
          case "--stream" -> stream = v;
          case "--batch" -> batch = positive(name, Integer.parseInt(v));
          case "--payload" -> payload = positive(name, Integer.parseInt(v));
          case "--keys" -> keys = Integer.parseInt(v);
          case "--connections" -> connections = positive(name, Integer.parseInt(v));
          case "--duration" -> seconds = positive(name, Integer.parseInt(v));
          case "--max-requests" -> maxRequests = positive(name, Integer.parseInt(v));
          case "--rate" -> rate = Double.parseDouble(v);
          case "--bodies" -> bodies = positive(name, Integer.parseInt(v));
          case "--warmup" -> warmup = Integer.parseInt(v);
          case "--catalog" -> catalog = URI.create(v);
          case "--table" -> table = v;
          case "--catalog-token" -> catalogToken = v;
          case "--lag-wait" -> lagWait = positive(name, Integer.parseInt(v));
          case "--trust" -> trust = Path.of(v);
          case "--lag-sample-ms" -> lagSample = positive(name, Integer.parseInt(v));
          case "--step-factor" -> stepFactor = Double.parseDouble(v);
          case "--hold" -> hold = positive(name, Integer.parseInt(v));
          case "--max-steps" -> maxSteps = positive(name, Integer.parseInt(v));
          case "--lag-limit" -> lagLimit = positive(name, Integer.parseInt(v));
          case "--cpu" -> cpu = processes(v);
          case "--bad-percent" -> {
            badPercent = Integer.parseInt(v);
            if (badPercent < 0 || badPercent > 100) {
              throw new IllegalArgumentException("--bad-percent must be 0..100, got " + v);
            }
          }
          default -> throw new IllegalArgumentException("unknown option " + name + "\n" + USAGE);
        }
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + ": '" + v + "' is not a number");
      }
    }
    requireLoopback("--target", target);
    if (catalog != null) {
      requireLoopback("--catalog", catalog);
    }
    if (sustained && (catalog == null || rate <= 0 || stepFactor <= 1)) {
      throw new IllegalArgumentException(
          "--sustained needs --catalog, a positive --rate and a --step-factor above 1");
    }
    if (table.indexOf('.') <= 0 || table.endsWith(".")) {
      throw new IllegalArgumentException("--table must be namespace.name, got '" + table + "'");
    }
    return new LoadOptions(
        target,
        stream,
        batch,
        payload,
        keys,
        connections,
        Duration.ofSeconds(seconds),
        maxRequests,
        rate,
        bodies,
        Duration.ofSeconds(Math.max(0, warmup)),
        catalog,
        table,
        catalogToken,
        Duration.ofSeconds(lagWait),
        trust,
        lagSample,
        sustained,
        stepFactor,
        Duration.ofSeconds(hold),
        maxSteps,
        Duration.ofSeconds(lagLimit),
        cpu,
        badPercent);
  }

  /** The same settings with another duration and no warm-up (used to run the warm-up itself). */
  public LoadOptions warmupRun() {
    return new LoadOptions(
        target,
        stream,
        batchEvents,
        payloadBytes,
        keys,
        connections,
        warmup,
        maxRequests,
        ratePerSecond,
        bodies,
        Duration.ZERO,
        null,
        table,
        null,
        lagWait,
        trustFile,
        lagSampleMillis,
        false,
        stepFactor,
        hold,
        maxSteps,
        lagLimit,
        Map.of(),
        badPercent);
  }

  /** label=pid,label=pid. */
  private static Map<String, Long> processes(String v) {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String part : v.split(",")) {
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--cpu wants label=pid[,label=pid], got '" + v + "'");
      }
      out.put(part.substring(0, eq), Long.parseLong(part.substring(eq + 1)));
    }
    return out;
  }

  private static void requireLoopback(String option, URI uri) {
    String host = String.valueOf(uri.getHost());
    if (!(host.equals("localhost")
        || host.startsWith("127.")
        || host.equals("[::1]")
        || host.equals("::1"))) {
      throw new IllegalArgumentException(option + " must be a loopback address, got " + host);
    }
  }

  private static int positive(String name, int v) {
    if (v <= 0) {
      throw new IllegalArgumentException(name + " must be positive");
    }
    return v;
  }
}
