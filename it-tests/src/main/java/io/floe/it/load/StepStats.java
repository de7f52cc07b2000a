package io.floe.it.load;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What happened to the requests scheduled in one open-loop step (or one whole fixed-rate run):
 * scheduled, answered, acknowledged, failures by status, latency from each request's scheduled
 * time, and the processes' CPU samples at the step's edges. Requests count in the step that
 * scheduled them, whenever they are answered.
 */
final class StepStats {
  final int index;
  final double rate;
  final long startNanos;
  volatile long endNanos;

  /** Requests issued so far; touched only by the scheduling timer. */
  long issued;

  final LongAdder scheduled = new LongAdder();
  final LongAdder answered = new LongAdder();
  final LongAdder acked = new LongAdder();
  final LongAdder ackedEvents = new LongAdder();
  final LongAdder ackedBytes = new LongAdder();
  final LongAdder unsent = new LongAdder();
  final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
  private final Recorder latencyMicros = new Recorder(3);
  private final Histogram latency = new Histogram(3);
  volatile String failure;
  Map<String, ProcessCpu.Sample> cpuFrom;
  Map<String, ProcessCpu.Sample> cpuTo;

  StepStats(int index, double rate, long startNanos) {
    this.index = index;
    this.rate = rate;
    this.startNanos = startNanos;
  }

  void recordLatency(long micros) {
    latencyMicros.recordValue(Math.max(0, micros));
  }

  void error(String key) {
    errors.computeIfAbsent(key, k -> new LongAdder()).increment();
  }

  long errorCount() {
    return errors.values().stream().mapToLong(LongAdder::sum).sum();
  }

  Map<String, Long> errorCounts() {
    Map<String, Long> out = new TreeMap<>();
    errors.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  /** All latencies recorded so far (call once the step's requests are answered). */
  synchronized Histogram latency() {
    latency.add(latencyMicros.getIntervalHistogram());
    return latency;
  }

  double seconds() {
    return ((endNanos == 0 ? System.nanoTime() : endNanos) - startNanos) / 1e9;
  }
}
