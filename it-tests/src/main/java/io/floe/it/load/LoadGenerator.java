package io.floe.it.load;

import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
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
import java.util.LinkedHashMap;
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
 * Keep-alive HTTP load generator, cycling through pre-generated bodies. Closed loop ({@code --rate
 * 0}): {@code connections} pooled connections each keep one request in flight, a burst as fast as
 * acknowledgements come. Open loop ({@code --rate R}): requests are scheduled on a clock at R per
 * second whatever the answers (they queue for the pooled connections), and latency counts from the
 * scheduled time, so a stall shows in the percentiles instead of lowering the send rate. Reports
 * events/s, MB/s, acknowledgement latency percentiles and errors by status, (with a catalog)
 * sampled visibility lag and (with {@code --cpu}) CPU-seconds per GB of each process. Bounded in
 * time and request count. {@link SustainedSearch} steps the open-loop rate.
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
  private final Map<String, ProcessCpu> cpu = new LinkedHashMap<>();
  private final AtomicLong inFlight = new AtomicLong();
  private volatile StepStats current;

  public LoadGenerator(LoadOptions options) {
    this.options = options;
    this.bodies = RequestBodies.generate(options);
    this.probe =
        options.catalog() == null
            ? null
            : new VisibilityProbe(
                options.catalog(),
                options.table(),
                options.catalogToken(),
                options.lagSampleMillis(),
                500);
    options
        .cpu()
        .forEach(
            (label, pid) ->
                cpu.put(
                    label,
                    new ProcessCpu(
                        label,
                        pid,
                        label.equals("node") ? ProcessCpu::nodeGroup : ProcessCpu::jvmGroup)));
    cpu.put(
        "loadgen", new ProcessCpu("loadgen", ProcessHandle.current().pid(), ProcessCpu::jvmGroup));
  }

  LoadOptions options() {
    return options;
  }

  VisibilityProbe probe() {
    return probe;
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
      Map<String, Object> lag,
      Map<String, Object> extra) {
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
          .mergeIn(new JsonObject(new TreeMap<>(lag)))
          .mergeIn(new JsonObject(new LinkedHashMap<>(extra)));
    }
  }

  /** Runs the load and returns the JSON summary. */
  public JsonObject runToJson() throws Exception {
    return options.sustained() ? new SustainedSearch(this).run() : run().toJson();
  }

  HttpClient client(Vertx vertx) {
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
    return vertx.createHttpClient(
        clientOptions, new PoolOptions().setHttp1MaxSize(options.connections()));
  }

  public Result run() throws Exception {
    if (options.ratePerSecond() > 0) {
      return runOpenLoop();
    }
    Vertx vertx = Vertx.vertx();
    try {
      HttpClient client = client(vertx);
      if (probe != null) {
        probe.start(vertx);
      }
      Map<String, ProcessCpu.Sample> cpuFrom = cpuSample();
      long start = System.nanoTime();
      long deadline = start + options.duration().toNanos();
      CompletableFuture<Void> done = new CompletableFuture<>();
      AtomicLong running = new AtomicLong(options.connections());
      for (int c = 0; c < options.connections(); c++) {
        loop(
            client,
            deadline,
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
      Map<String, ProcessCpu.Sample> cpuTo = cpuSample();
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
          lag,
          cpuPerGb(cpuFrom, cpuTo, okBytes.sum(), seconds));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private void loop(HttpClient client, long deadline, Runnable finished) {
    if (System.nanoTime() >= deadline || sent.incrementAndGet() > options.maxRequests()) {
      finished.run();
      return;
    }
    Buffer body = bodies[(int) (sent.get() % bodies.length)];
    long t0 = System.nanoTime();
    post(client, body)
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
                errors.computeIfAbsent(errorKey(ar), k -> new LongAdder()).increment();
              }
              loop(client, deadline, finished);
            });
  }

  private Future<Reply> post(HttpClient client, Buffer body) {
    RequestOptions req =
        new RequestOptions()
            .setMethod(HttpMethod.POST)
            .setAbsoluteURI(
                options.target().resolve("/v1/streams/" + options.stream() + "/events").toString())
            .putHeader("Content-Type", "application/x-ndjson");
    return client
        .request(req)
        .compose(r -> r.send(body))
        .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), b)));
  }

  private static String errorKey(AsyncResult<Reply> ar) {
    return ar.succeeded() ? "http_" + ar.result().status() : ar.cause().getClass().getSimpleName();
  }

  // ---- open loop: a clock schedules the requests; the steps are set by the caller ----

  /** A fixed-rate open-loop run of the whole duration: one step. */
  private Result runOpenLoop() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      HttpClient client = client(vertx);
      if (probe != null) {
        probe.start(vertx);
      }
      long timer = startClock(vertx, client);
      StepStats step = new StepStats(0, options.ratePerSecond(), System.nanoTime());
      step.cpuFrom = cpuSample();
      current = step;
      long deadline = step.startNanos + options.duration().toNanos();
      long lastReport = step.startNanos;
      while (System.nanoTime() < deadline && step.scheduled.sum() < options.maxRequests()) {
        Thread.sleep(Math.max(1, Math.min(1000, (deadline - System.nanoTime()) / 1_000_000)));
        long now = System.nanoTime();
        progress(now - step.startNanos, now - lastReport);
        lastReport = now;
      }
      current = null;
      step.endNanos = System.nanoTime();
      step.cpuTo = cpuSample();
      vertx.cancelTimer(timer);
      drain(options.lagWait().toMillis());
      Map<String, Object> lag = new TreeMap<>();
      if (probe != null) {
        probe.awaitVisible(options.lagWait().toMillis());
        probe.stop(vertx);
        probe.report(lag);
      }
      Histogram h = step.latency();
      Map<String, Long> errs = step.errorCounts();
      if (step.unsent.sum() > 0) {
        errs.put("unsent_backlog", step.unsent.sum());
      }
      return new Result(
          step.seconds(),
          step.acked.sum(),
          step.ackedEvents.sum(),
          step.ackedBytes.sum(),
          ms(h.getValueAtPercentile(50)),
          ms(h.getValueAtPercentile(99)),
          ms(h.getValueAtPercentile(99.9)),
          ms(h.getMaxValue()),
          errs,
          lag,
          openLoopFields(step));
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  Map<String, Object> openLoopFields(StepStats step) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("open_loop", true);
    out.put("rate_rps", step.rate);
    out.put("scheduled", step.scheduled.sum());
    out.putAll(cpuPerGb(step.cpuFrom, step.cpuTo, step.ackedBytes.sum(), step.seconds()));
    return out;
  }

  /** Starts the clock that issues the current step's requests; returns its timer. */
  long startClock(Vertx vertx, HttpClient client) {
    return vertx.setPeriodic(1, id -> tick(client));
  }

  /** Makes {@code step} the one the clock schedules (null: the clock sends nothing). */
  void schedule(StepStats step) {
    current = step;
  }

  long inFlight() {
    return inFlight.get();
  }

  /** Waits until every issued request is answered, up to the timeout. */
  void drain(long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (inFlight.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
  }

  private void tick(HttpClient client) {
    StepStats step = current;
    if (step == null) {
      return;
    }
    long now = System.nanoTime();
    long due = (long) ((now - step.startNanos) * step.rate / 1e9) + 1;
    // the queue for the pooled connections is bounded by what 30 s of this rate would send: past
    // that the step has failed anyway, and the generator must not run out of memory
    long backlogLimit = Math.max(1000, (long) (step.rate * 30));
    while (step.issued < due) {
      long at = step.startNanos + (long) (step.issued * 1e9 / step.rate);
      step.issued++;
      step.scheduled.increment();
      if (inFlight.get() >= backlogLimit) {
        step.unsent.increment();
      } else {
        sendScheduled(client, step, at);
      }
    }
  }

  private void sendScheduled(HttpClient client, StepStats step, long scheduledAt) {
    Buffer body = bodies[(int) (sent.getAndIncrement() % bodies.length)];
    inFlight.incrementAndGet();
    post(client, body)
        .onComplete(
            ar -> {
              long t1 = System.nanoTime();
              inFlight.decrementAndGet();
              step.answered.increment();
              if (ar.succeeded() && ar.result().status() == 200) {
                long micros = (t1 - scheduledAt) / 1000;
                step.recordLatency(micros);
                latency.recordValue(Math.max(0, micros));
                if (probe != null && probe.wantSample(t1)) {
                  probe.acknowledged(ar.result().body().toString(), t1, step.index);
                }
                step.acked.increment();
                step.ackedEvents.add(options.batchEvents());
                step.ackedBytes.add(body.length());
                okRequests.increment();
                okEvents.add(options.batchEvents());
                okBytes.add(body.length());
              } else {
                String key = errorKey(ar);
                step.error(key);
                errors.computeIfAbsent(key, k -> new LongAdder()).increment();
              }
            });
  }

  // ---- CPU accounting ----

  Map<String, ProcessCpu.Sample> cpuSample() {
    Map<String, ProcessCpu.Sample> out = new LinkedHashMap<>();
    cpu.forEach((label, p) -> out.put(label, p.sample()));
    return out;
  }

  /**
   * cpu_<process>_s_per_gb (and cpu_node_<group>_s_per_gb, cpu_<process>_cores) between two
   * samples, per GB acknowledged in between; the node's busiest threads go to stderr.
   */
  Map<String, Object> cpuPerGb(
      Map<String, ProcessCpu.Sample> from,
      Map<String, ProcessCpu.Sample> to,
      long bytes,
      double seconds) {
    Map<String, Object> out = new LinkedHashMap<>();
    double gb = bytes / 1e9;
    for (Map.Entry<String, ProcessCpu> e : cpu.entrySet()) {
      String label = e.getKey();
      ProcessCpu.Sample a = from.get(label);
      ProcessCpu.Sample b = to.get(label);
      if (a == null || b == null) {
        continue;
      }
      Map<String, Double> secs = e.getValue().seconds(a, b, ProcessCpu.DEFAULT_TICKS_PER_SECOND);
      out.put("cpu_" + label + "_cores", round2(secs.get("total") / seconds));
      for (Map.Entry<String, Double> g : secs.entrySet()) {
        String key =
            g.getKey().equals("total")
                ? "cpu_" + label + "_s_per_gb"
                : "cpu_" + label + "_" + g.getKey() + "_s_per_gb";
        out.put(key, gb > 0 ? round2(g.getValue() / gb) : 0.0);
      }
      if (label.equals("node")) {
        StringBuilder top = new StringBuilder("node CPU-s by thread:");
        ProcessCpu.byName(a, b, ProcessCpu.DEFAULT_TICKS_PER_SECOND).entrySet().stream()
            .limit(12)
            .forEach(t -> top.append(' ').append(t.getKey()).append('=').append(t.getValue()));
        System.err.println(top);
      }
    }
    return out;
  }

  private static double round2(double v) {
    return Math.round(v * 100) / 100.0;
  }

  private record Reply(int status, Buffer body) {}

  private long lastEvents;
  private long lastBytes;

  void progress(long elapsedNanos, long intervalNanos) {
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

  static double ms(long micros) {
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
    System.out.println(new LoadGenerator(options).runToJson().encode());
  }
}
