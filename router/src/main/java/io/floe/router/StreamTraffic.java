package io.floe.router;

import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

/**
 * What this router forwarded per stream: events the nodes acknowledged, request body bytes, and
 * requests answered with an error (4xx/5xx, the router's own refusals included). Only authenticated
 * requests count, and at most {@link #MAX_STREAMS} names are kept apart (the rest count under
 * {@link #OTHER}), so neither a stranger nor a producer inventing names can grow the label set
 * without bound.
 */
final class StreamTraffic {
  static final int MAX_STREAMS = 1000;

  /** Where streams beyond {@link #MAX_STREAMS}, and names that are not stream names, count. */
  static final String OTHER = "_other";

  private static final Pattern STREAM = Pattern.compile("[a-z][a-z0-9_-]{0,127}");

  /** One stream's counts. */
  static final class Counts {
    final LongAdder events = new LongAdder();
    final LongAdder bytes = new LongAdder();
    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
  }

  private final Map<String, Counts> streams = new ConcurrentHashMap<>();

  StreamTraffic(PrometheusRegistry registry) {
    CounterWithCallback.builder()
        .name("floe_router_stream_events_total")
        .help("Events the nodes acknowledged, by stream (requests this router forwarded)")
        .labelNames("stream")
        .callback(cb -> streams.forEach((s, c) -> cb.call(c.events.sum(), s)))
        .register(registry);
    CounterWithCallback.builder()
        .name("floe_router_stream_bytes_total")
        .help("Request body bytes this router read, by stream")
        .labelNames("stream")
        .callback(cb -> streams.forEach((s, c) -> cb.call(c.bytes.sum(), s)))
        .register(registry);
    CounterWithCallback.builder()
        .name("floe_router_stream_errors_total")
        .help("Ingestion requests answered with a 4xx or 5xx status, by stream")
        .labelNames("stream")
        .callback(cb -> streams.forEach((s, c) -> cb.call(c.errors.sum(), s)))
        .register(registry);
  }

  /**
   * An authenticated ingestion request to {@code stream} was answered {@code status} after this
   * router read {@code bodyBytes} of its body.
   */
  void answered(String stream, int status, long bodyBytes) {
    Counts c = counts(stream);
    c.requests.increment();
    c.bytes.add(Math.max(0, bodyBytes));
    if (status >= 400) {
      c.errors.increment();
    }
  }

  /** A node acknowledged {@code events} new events of {@code stream} (not a replayed answer). */
  void accepted(String stream, long events) {
    if (stream != null && events > 0) {
      counts(stream).events.add(events);
    }
  }

  private Counts counts(String stream) {
    // the keys are names that matched STREAM, and OTHER (which does not match it, and stands for
    // itself anyway): a known stream is found without matching its name again on every request
    Counts c = streams.get(stream);
    if (c != null) {
      return c;
    }
    String name = STREAM.matcher(stream).matches() ? stream : OTHER;
    c = streams.get(name);
    if (c != null) {
      return c;
    }
    if (streams.size() >= MAX_STREAMS) {
      return streams.computeIfAbsent(OTHER, n -> new Counts());
    }
    return streams.computeIfAbsent(name, n -> new Counts());
  }

  /** The counts so far, by stream name. */
  Map<String, long[]> snapshot() {
    Map<String, long[]> out = new TreeMap<>();
    streams.forEach(
        (s, c) ->
            out.put(
                s, new long[] {c.events.sum(), c.bytes.sum(), c.requests.sum(), c.errors.sum()}));
    return out;
  }
}
