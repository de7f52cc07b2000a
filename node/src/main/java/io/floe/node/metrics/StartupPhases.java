package io.floe.node.metrics;

import java.lang.management.ManagementFactory;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.StringJoiner;

/**
 * How long each phase of a start-up took, in the order they ran: {@link #mark} ends the phase
 * running since the last mark (or since creation). Not thread-safe: one start-up thread marks.
 */
public final class StartupPhases {
  private final Map<String, Long> nanos = new LinkedHashMap<>();
  private long last = System.nanoTime();

  /**
   * Phases that begin at the JVM's start: the first, {@code jvm}, is the time from the JVM's start
   * (as the runtime reports it) to now: class loading, configuration and logging set-up.
   */
  public static StartupPhases sinceJvmStart() {
    StartupPhases p = new StartupPhases();
    long sinceStart =
        System.currentTimeMillis() - ManagementFactory.getRuntimeMXBean().getStartTime();
    p.nanos.put("jvm", Math.max(0, sinceStart) * 1_000_000L);
    return p;
  }

  /** Ends the phase {@code name} now (a name marked again adds up). */
  public void mark(String name) {
    long now = System.nanoTime();
    nanos.merge(name, now - last, Long::sum);
    last = now;
  }

  /** The phases in seconds, in order. */
  public Map<String, Double> seconds() {
    Map<String, Double> out = new LinkedHashMap<>();
    nanos.forEach((k, v) -> out.put(k, v / 1e9));
    return out;
  }

  /** All phases together, in milliseconds. */
  public long totalMillis() {
    return nanos.values().stream().mapToLong(Long::longValue).sum() / 1_000_000L;
  }

  /** "name 123 ms, name 45 ms". */
  @Override
  public String toString() {
    StringJoiner j = new StringJoiner(", ");
    nanos.forEach((k, v) -> j.add(k + " " + v / 1_000_000L + " ms"));
    return j.toString();
  }
}
