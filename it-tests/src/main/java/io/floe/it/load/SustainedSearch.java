package io.floe.it.load;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Finds the rate a target sustains: open-loop load, stepped up by a factor every hold time, until a
 * step fails. A step is <em>held</em> when it ran its whole hold time, every request it scheduled
 * was acknowledged (no 503 or other failure, none left unsent behind the schedule), the
 * acknowledgement latency p99 from the scheduled time and the visibility lag p99 (acknowledged →
 * committed to the table) both stayed within the lag limit, and every lag sample resolved. The
 * search stops at the first step known to fail (a failure, a lag sample overdue, or answers that
 * have fallen a lag limit behind the schedule); while no step is known held yet (all its lag
 * samples in and within the limit) it steps down instead, below the lowest rate tried (twice at
 * most, after letting the backlog drain). Steps follow each other without a pause, so a step
 * inherits whatever backlog the one before left. The result is the highest rate held.
 */
final class SustainedSearch {
  private final LoadGenerator generator;
  private final LoadOptions options;

  SustainedSearch(LoadGenerator generator) {
    this.generator = generator;
    this.options = generator.options();
  }

  /** One step's figures, as the verdict needs them. */
  record Verdict(
      double rate,
      boolean ranFullHold,
      long scheduled,
      long acked,
      long failures,
      double ackP99Ms,
      double lagP99Ms,
      long lagSamples,
      long lagUnresolved) {
    /** Why the step was not held, or null when it was. */
    String failure(double limitMs) {
      if (!ranFullHold) {
        return "stopped before its hold time";
      }
      if (failures > 0) {
        return failures + " failed requests";
      }
      if (acked < scheduled) {
        return (scheduled - acked) + " of " + scheduled + " requests unanswered";
      }
      if (lagSamples == 0 || lagUnresolved > 0) {
        return "lag samples unresolved";
      }
      if (lagP99Ms > limitMs) {
        return "lag p99 " + lagP99Ms + " ms over " + limitMs;
      }
      if (ackP99Ms > limitMs) {
        return "ack p99 " + ackP99Ms + " ms over " + limitMs;
      }
      return null;
    }
  }

  /** The index of the highest-rate step held, or -1. */
  static int highestHeld(List<Verdict> steps, double limitMs) {
    int best = -1;
    for (int i = 0; i < steps.size(); i++) {
      if (steps.get(i).failure(limitMs) == null
          && (best < 0 || steps.get(i).rate() > steps.get(best).rate())) {
        best = i;
      }
    }
    return best;
  }

  JsonObject run() throws Exception {
    VisibilityProbe probe = generator.probe();
    long holdNanos = options.hold().toNanos();
    long limitNanos = options.lagLimit().toNanos();
    double limitMs = options.lagLimit().toMillis();
    List<StepStats> steps = new ArrayList<>();
    Vertx vertx = Vertx.vertx();
    try {
      HttpClient client = generator.client(vertx);
      probe.start(vertx);
      long timer = generator.startClock(vertx, client);
      double rate = options.ratePerSecond();
      double lowestFailed = Double.MAX_VALUE;
      int downs = 0;
      System.err.printf(
          "sustained search: open loop from %.1f requests/s, x%.2f every %d s, until lag p99 > %d"
              + " ms or a request fails%n",
          rate, options.stepFactor(), options.hold().toSeconds(), options.lagLimit().toMillis());
      for (int i = 0; i < options.maxSteps(); i++) {
        StepStats step = new StepStats(i, rate, System.nanoTime());
        step.cpuFrom = generator.cpuSample();
        steps.add(step);
        generator.schedule(step);
        long end = step.startNanos + holdNanos;
        long lastReport = step.startNanos;
        String failure = null;
        while (failure == null && System.nanoTime() < end) {
          Thread.sleep(Math.max(1, Math.min(1000, (end - System.nanoTime()) / 1_000_000)));
          long now = System.nanoTime();
          generator.progress(now - step.startNanos, now - lastReport);
          lastReport = now;
          failure = failingNow(steps, probe, now, limitNanos);
        }
        step.endNanos = System.nanoTime();
        step.cpuTo = generator.cpuSample();
        System.err.printf(
            "step %d: %.1f requests/s for %.1f s%s%n",
            i, rate, step.seconds(), failure == null ? "" : ": " + failure);
        if (failure == null) {
          rate *= options.stepFactor();
          if (rate >= lowestFailed * 0.999) {
            break;
          }
          continue;
        }
        step.failure = failure;
        lowestFailed = Math.min(lowestFailed, step.rate);
        // a lower step counts as held only once all its lag samples are in and within the limit
        boolean noneHeld = steps.stream().noneMatch(s -> s != step && knownHeld(s, probe, limitMs));
        if (!noneHeld || downs >= 2) {
          break;
        }
        downs++;
        generator.schedule(null);
        System.err.println("stepping down: waiting for the backlog to drain first");
        generator.drain(options.lagWait().toMillis());
        probe.awaitVisible(options.lagWait().toMillis());
        double lowest = steps.stream().mapToDouble(s -> s.rate).min().orElse(step.rate);
        rate = lowest / (options.stepFactor() * options.stepFactor());
      }
      generator.schedule(null);
      vertx.cancelTimer(timer);
      generator.drain(options.lagWait().toMillis());
      probe.awaitVisible(options.lagWait().toMillis());
      probe.stop(vertx);
      return summary(steps, probe, limitMs);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** Whether a finished step is already known to be held (its lag samples all resolved). */
  private static boolean knownHeld(StepStats s, VisibilityProbe probe, double limitMs) {
    if (s.failure != null || s.errorCount() > 0 || s.unsent.sum() > 0) {
      return false;
    }
    Map<String, Object> lag = new LinkedHashMap<>();
    probe.reportStep(s.index, lag);
    return ((Number) lag.get("lag_unresolved")).longValue() == 0
        && ((Number) lag.get("lag_samples")).longValue() > 0
        && ((Number) lag.get("lag_p99_ms")).doubleValue() <= limitMs;
  }

  /** Why the running search must stop now, or null. */
  private String failingNow(
      List<StepStats> steps, VisibilityProbe probe, long now, long limitNanos) {
    StepStats step = steps.get(steps.size() - 1);
    if (step.errorCount() > 0) {
      return "requests failed: " + step.errorCounts();
    }
    if (step.unsent.sum() > 0) {
      return "the answers fell 30 s behind the schedule";
    }
    if (generator.inFlight() > step.rate * limitNanos / 1e9) {
      return "the answers fell " + limitNanos / 1_000_000 + " ms behind the schedule";
    }
    int overdue = probe.firstStepOverdue(now, limitNanos);
    if (overdue >= 0) {
      if (overdue < step.index) {
        steps.get(overdue).failure = "lag over the limit (seen later)";
      }
      return "a lag sample of step " + overdue + " is over " + limitNanos / 1_000_000 + " ms";
    }
    return null;
  }

  private JsonObject summary(List<StepStats> steps, VisibilityProbe probe, double limitMs) {
    JsonArray rows = new JsonArray();
    List<Verdict> verdicts = new ArrayList<>();
    List<Map<String, Object>> figures = new ArrayList<>();
    System.err.printf(
        "%4s %9s %10s %9s %9s %11s %11s  %s%n",
        "step", "req/s", "events/s", "MB/s", "ack_p99", "lag_p99_ms", "node_cpu/GB", "verdict");
    for (StepStats s : steps) {
      Histogram h = s.latency();
      Map<String, Object> lag = new LinkedHashMap<>();
      probe.reportStep(s.index, lag);
      double secs = s.seconds();
      Verdict v =
          new Verdict(
              s.rate,
              s.failure == null,
              s.scheduled.sum(),
              s.acked.sum(),
              s.errorCount() + s.unsent.sum(),
              LoadGenerator.ms(h.getValueAtPercentile(99)),
              ((Number) lag.get("lag_p99_ms")).doubleValue(),
              ((Number) lag.get("lag_samples")).longValue(),
              ((Number) lag.get("lag_unresolved")).longValue());
      verdicts.add(v);
      String why = s.failure != null ? s.failure : v.failure(limitMs);
      Map<String, Object> f = new LinkedHashMap<>();
      f.put("step_rate_rps", Math.round(s.rate * 10) / 10.0);
      f.put("step_seconds", Math.round(secs * 10) / 10.0);
      f.put("step_events_per_s", Math.round(s.ackedEvents.sum() / secs));
      f.put("step_mb_per_s", Math.round(s.ackedBytes.sum() / secs / 1e4) / 100.0);
      f.put("step_p50_ms", LoadGenerator.ms(h.getValueAtPercentile(50)));
      f.put("step_p99_ms", v.ackP99Ms());
      lag.forEach((k, x) -> f.put("step_" + k, x));
      f.put("step_errors", new JsonObject(new LinkedHashMap<>(s.errorCounts())));
      f.put("step_unsent", s.unsent.sum());
      Map<String, Object> cpu = generator.cpuPerGb(s.cpuFrom, s.cpuTo, s.ackedBytes.sum(), secs);
      cpu.forEach((k, x) -> f.put("step_" + k, x));
      f.put("step_held", why == null);
      if (why != null) {
        f.put("step_failure", why);
      }
      figures.add(f);
      rows.add(new JsonObject(f));
      System.err.printf(
          "%4d %9.1f %10d %9.2f %9.1f %11s %11s  %s%n",
          s.index,
          s.rate,
          f.get("step_events_per_s"),
          (Double) f.get("step_mb_per_s"),
          v.ackP99Ms(),
          lag.get("lag_p99_ms"),
          String.valueOf(cpu.getOrDefault("cpu_node_s_per_gb", "-")),
          why == null ? "held" : why);
    }
    int best = highestHeld(verdicts, limitMs);
    JsonObject out =
        new JsonObject()
            .put("steps", rows)
            .put("mode", "sustained")
            .put("hold_s", options.hold().toSeconds())
            .put("lag_limit_ms", options.lagLimit().toMillis())
            .put("held", best >= 0);
    if (best < 0) {
      return out.put("sustained_rps", 0)
          .put("events_per_s", 0)
          .put("mb_per_s", 0)
          .put("p99_ms", 0)
          .put("lag_p99_ms", 0);
    }
    Map<String, Object> f = figures.get(best);
    out.put("sustained_rps", f.get("step_rate_rps"));
    f.forEach(
        (k, x) -> {
          if (!(x instanceof JsonObject)) {
            out.put(k.substring("step_".length()), x);
          }
        });
    return out;
  }
}
