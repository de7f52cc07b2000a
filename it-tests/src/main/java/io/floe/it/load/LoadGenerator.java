package io.floe.it.load;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.OpenSSLEngineOptions;
import io.vertx.core.net.PemTrustOptions;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Keep-alive HTTP load generator: {@code connections} pooled connections each keep one request in
 * flight (or follow a target rate), cycling through pre-generated bodies; reports events/s, MB/s,
 * acknowledgement latency percentiles and errors by status, and (with a catalog) sampled visibility
 * lag. Bounded in time and request count.
 */
public final class LoadGenerator {
  private final LoadOptions options;
  private final Buffer[] bodies;
  private final Recorder latency = new Recorder(3);
  private final Histogram total = new Histogram(3);
  private final LongAdder okRequests = new LongAdder();
  private final LongAdder okEvents = new LongAdder();
  private final LongAdder okBytes = new LongAdder();
  private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final AtomicLong sent = new AtomicLong();
  private final VisibilityProbe probe;

  public LoadGenerator(LoadOptions options) {
    this.options = options;
    this.bodies = RequestBodies.generate(options);
    this.probe =
        options.catalog() == null
            ? null
            : new VisibilityProbe(
                options.catalog(), options.table(), options.catalogToken(), 1000, 500);
  }

  /** Summary of a run. */
  public record Result(
      double seconds,
      long requests,
      long events,
      long bytes,
      double p50Ms,
      double p99Ms,
      double p999Ms,
      double maxMs,
      Map<String, Long> errors,
      Map<String, Object> lag) {
    public double eventsPerSecond() {
      return events / seconds;
    }

    public double megabytesPerSecond() {
      return bytes / seconds / 1e6;
    }

    public JsonObject toJson() {
      return new JsonObject()
          .put("seconds", seconds)
          .put("requests", requests)
          .put("events", events)
          .put("bytes", bytes)
          .put("events_per_s", Math.round(eventsPerSecond()))
          .put("mb_per_s", Math.round(megabytesPerSecond() * 100) / 100.0)
          .put("p50_ms", p50Ms)
          .put("p99_ms", p99Ms)
          .put("p999_ms", p999Ms)
          .put("max_ms", maxMs)
          .put("errors", new JsonObject(new TreeMap<>(errors)))
          .mergeIn(new JsonObject(new TreeMap<>(lag)));
    }
  }

  public Result run() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpClientOptions clientOptions =
          new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true).setPipelining(false);
      if ("https".equals(options.target().getScheme())) {
        clientOptions.setSsl(true).setVerifyHost(true);
        if (OpenSSLEngineOptions.isAvailable()) {
          clientOptions.setSslEngineOptions(new OpenSSLEngineOptions());
        }
        if (options.trustFile() != null) {
          clientOptions.setTrustOptions(
              new PemTrustOptions().addCertPath(options.trustFile().toString()));
        }
      }
      HttpClient client =
          vertx.createHttpClient(
              clientOptions, new PoolOptions().setHttp1MaxSize(options.connections()));
      if (probe != null) {
        probe.start(vertx);
      }
      long start = System.nanoTime();
      long deadline = start + options.duration().toNanos();
      CompletableFuture<Void> done = new CompletableFuture<>();
      AtomicLong running = new AtomicLong(options.connections());
      for (int c = 0; c < options.connections(); c++) {
        long interval =
            options.ratePerSecond() > 0
                ? (long) (1e9 * options.connections() / options.ratePerSecond())
                : 0;
        loop(
            vertx,
            client,
            c,
            deadline,
            interval,
            start + c * (interval / Math.max(1, options.connections())),
            () -> {
              if (running.decrementAndGet() == 0) {
                done.complete(null);
              }
            });
      }
      long lastReport = start;
      while (!done.isDone()) {
        try {
          done.get(1, TimeUnit.SECONDS);
        } catch (TimeoutException tick) {
          long now = System.nanoTime();
          progress(now - start, now - lastReport);
          lastReport = now;
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      total.add(latency.getIntervalHistogram());
      Map<String, Object> lag = new TreeMap<>();
      if (probe != null) {
        System.err.println(
            "waiting up to "
                + options.lagWait().toSeconds()
                + " s for the last sampled events to be committed to the table");
        probe.awaitVisible(options.lagWait().toMillis());
        probe.stop(vertx);
        probe.report(lag);
      }
      Map<String, Long> errs = new TreeMap<>();
      errors.forEach((k, v) -> errs.put(k, v.sum()));
      return new Result(
          seconds,
          okRequests.sum(),
          okEvents.sum(),
          okBytes.sum(),
          ms(total.getValueAtPercentile(50)),
          ms(total.getValueAtPercentile(99)),
          ms(total.getValueAtPercentile(99.9)),
          ms(total.getMaxValue()),
          errs,
          lag);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private void loop(
      Vertx vertx,
      HttpClient client,
      int connection,
      long deadline,
      long intervalNanos,
      long nextAt,
      Runnable finished) {
    long now = System.nanoTime();
    if (now >= deadline || sent.incrementAndGet() > options.maxRequests()) {
      finished.run();
      return;
    }
    if (intervalNanos > 0 && nextAt > now) {
      vertx.setTimer(
          Math.max(1, (nextAt - now) / 1_000_000),
          id -> send(vertx, client, connection, deadline, intervalNanos, nextAt, finished));
    } else {
      send(vertx, client, connection, deadline, intervalNanos, nextAt, finished);
    }
  }

  private void send(
      Vertx vertx,
      HttpClient client,
      int connection,
      long deadline,
      long intervalNanos,
      long nextAt,
      Runnable finished) {
    Buffer body = bodies[(int) (sent.get() % bodies.length)];
    long t0 = System.nanoTime();
    RequestOptions req =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(
                options.target().resolve("/v1/streams/" + options.stream() + "/events").toString())
            .putHeader("Content-Type", "application/x-ndjson");
    client
        .request(req)
        .compose(r -> r.send(body))
        .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), b)))
        .onComplete(
            ar -> {
              long t1 = System.nanoTime();
              if (ar.succeeded() && ar.result().status() == 200) {
                latency.recordValue((t1 - t0) / 1000);
                if (probe != null && probe.wantSample(t1)) {
                  probe.acknowledged(ar.result().body().toString(), t1);
                }
                okRequests.increment();
                okEvents.add(options.batchEvents());
                okBytes.add(body.length());
              } else {
                String key =
                    ar.succeeded()
                        ? "http_" + ar.result().status()
                        : ar.cause().getClass().getSimpleName();
                errors.computeIfAbsent(key, k -> new LongAdder()).increment();
              }
              loop(
                  vertx,
                  client,
                  connection,
                  deadline,
                  intervalNanos,
                  intervalNanos > 0 ? nextAt + intervalNanos : 0,
                  finished);
            });
  }

  private record Reply(int status, Buffer body) {}

  private long lastEvents;
  private long lastBytes;

  private void progress(long elapsedNanos, long intervalNanos) {
    Histogram h = latency.getIntervalHistogram();
    total.add(h);
    long events = okEvents.sum();
    long bytes = okBytes.sum();
    double secs = intervalNanos / 1e9;
    System.err.printf(
        "[%5.1fs] %,10.0f events/s %8.1f MB/s  p99 %7.2f ms  errors %d%n",
        elapsedNanos / 1e9,
        (events - lastEvents) / secs,
        (bytes - lastBytes) / secs / 1e6,
        ms(h.getValueAtPercentile(99)),
        errors.values().stream().mapToLong(LongAdder::sum).sum());
    lastEvents = events;
    lastBytes = bytes;
  }

  private static double ms(long micros) {
    return Math.round(micros / 10.0) / 100.0;
  }

  public static void main(String[] args) throws Exception {
    LoadOptions options;
    try {
      options = LoadOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(args.length > 0 && (args[0].equals("--help") || args[0].equals("-h")) ? 0 : 2);
      return;
    }
    if (!options.warmup().isZero()) {
      System.err.println("warm-up " + options.warmup().toSeconds() + " s (not counted)");
      new LoadGenerator(options.warmupRun()).run();
    }
    Result result = new LoadGenerator(options).run();
    System.out.println(result.toJson().encode());
  }
}
