package io.floe.it.load;

import io.floe.catalog.table.FloeTableKeys;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * Samples end-to-end visibility lag: the time from an acknowledgement until the table says the
 * acknowledged events are in it. A sample is one acknowledged request's (partition, last sequence);
 * the probe polls the table through the Iceberg REST catalog and a sample becomes visible when the
 * table property {@code floe.partition.<p>.committed-sequence} (written in the same commit as the
 * data files) reaches its sequence. Resolution is the poll interval.
 */
final class VisibilityProbe {
  private record Sample(int partition, long lastSequence, long ackedNanos, int step) {}

  private final URI catalog;
  private final String namespace;
  private final String table;
  private final String token;
  private final long sampleEveryNanos;
  private final long pollMillis;
  private final ConcurrentLinkedQueue<Sample> pending = new ConcurrentLinkedQueue<>();
  private final Histogram lagMicros = new Histogram(3);
  private final Map<Integer, Histogram> stepLagMicros = new HashMap<>();
  private volatile long nextSampleAt;
  private long polls;
  private long pollErrors;
  private HttpClient client;
  private long timer = -1;

  VisibilityProbe(
      URI catalog, String qualifiedTable, String token, long sampleEveryMillis, long pollMillis) {
    this.catalog = catalog;
    int dot = qualifiedTable.lastIndexOf('.');
    this.namespace = qualifiedTable.substring(0, dot);
    this.table = qualifiedTable.substring(dot + 1);
    this.token = token;
    this.sampleEveryNanos = sampleEveryMillis * 1_000_000;
    this.pollMillis = pollMillis;
  }

  /** Whether the acknowledgement arriving now should be sampled (at most one per interval). */
  boolean wantSample(long nowNanos) {
    long next = nextSampleAt;
    if (nowNanos < next) {
      return false;
    }
    nextSampleAt = nowNanos + sampleEveryNanos;
    return true;
  }

  /** Records an acknowledgement body: {"partition_id":p,"last_sequence":s,...}. */
  void acknowledged(String responseBody, long ackedNanos) {
    acknowledged(responseBody, ackedNanos, 0);
  }

  /** The same, for a request sent in the given step of a sustained run. */
  void acknowledged(String responseBody, long ackedNanos, int step) {
    JsonObject ack = new JsonObject(responseBody);
    pending.add(
        new Sample(ack.getInteger("partition_id"), ack.getLong("last_sequence"), ackedNanos, step));
  }

  /**
   * The lowest step with a sample still not visible {@code limitNanos} after its acknowledgement
   * (that step's lag is already known to exceed the limit), or -1.
   */
  int firstStepOverdue(long nowNanos, long limitNanos) {
    int step = -1;
    for (Sample s : pending) {
      if (nowNanos - s.ackedNanos() > limitNanos && (step < 0 || s.step() < step)) {
        step = s.step();
      }
    }
    return step;
  }

  /** Samples still waiting to become visible. */
  int pendingCount() {
    return pending.size();
  }

  void start(Vertx vertx) {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true));
    timer = vertx.setPeriodic(pollMillis, id -> poll());
  }

  /** Keeps polling until every sample is visible or {@code timeoutMillis} passes. */
  void awaitVisible(long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (!pending.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(pollMillis);
    }
  }

  void stop(Vertx vertx) {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void poll() {
    if (pending.isEmpty()) {
      return;
    }
    RequestOptions req =
        new RequestOptions()
            .setMethod(HttpMethod.GET)
            .setAbsoluteURI(
                catalog.resolve("/v1/namespaces/" + namespace + "/tables/" + table).toString());
    if (token != null) {
      req.putHeader("Authorization", "Bearer " + token);
    }
    client
        .request(req)
        .compose(
            r ->
                r.send()
                    .compose(
                        resp ->
                            resp.body()
                                .map(
                                    b -> {
                                      if (resp.statusCode() != 200) {
                                        throw new IllegalStateException(
                                            "catalog answered " + resp.statusCode());
                                      }
                                      return b.toJsonObject();
                                    })))
        .onSuccess(this::observe)
        .onFailure(e -> failed());
  }

  private synchronized void failed() {
    pollErrors++;
  }

  private synchronized void observe(JsonObject loadTable) {
    polls++;
    long now = System.nanoTime();
    JsonObject props =
        loadTable.getJsonObject("metadata").getJsonObject("properties", new JsonObject());
    for (Iterator<Sample> it = pending.iterator(); it.hasNext(); ) {
      Sample s = it.next();
      Object committed = props.getValue(FloeTableKeys.partitionCommittedSequence(s.partition()));
      if (committed != null && Long.parseLong(committed.toString()) >= s.lastSequence()) {
        long lag = Math.max(0, (now - s.ackedNanos()) / 1000);
        lagMicros.recordValue(lag);
        stepLagMicros.computeIfAbsent(s.step(), k -> new Histogram(3)).recordValue(lag);
        it.remove();
      }
    }
  }

  /** Figures for the summary. */
  synchronized void report(Map<String, Object> out) {
    out.put("lag_samples", lagMicros.getTotalCount());
    out.put("lag_unresolved", pending.size());
    out.put("lag_p50_ms", ms(lagMicros.getValueAtPercentile(50)));
    out.put("lag_p99_ms", ms(lagMicros.getValueAtPercentile(99)));
    out.put("lag_max_ms", ms(lagMicros.getMaxValue()));
    out.put("lag_poll_ms", pollMillis);
    out.put("lag_poll_errors", pollErrors);
  }

  /** One step's figures: lag_samples, lag_unresolved, lag_p50_ms, lag_p99_ms, lag_max_ms. */
  synchronized void reportStep(int step, Map<String, Object> out) {
    Histogram h = stepLagMicros.getOrDefault(step, new Histogram(3));
    out.put("lag_samples", h.getTotalCount());
    out.put("lag_unresolved", pending.stream().filter(s -> s.step() == step).count());
    out.put("lag_p50_ms", ms(h.getValueAtPercentile(50)));
    out.put("lag_p99_ms", ms(h.getValueAtPercentile(99)));
    out.put("lag_max_ms", ms(h.getMaxValue()));
  }

  private static double ms(long micros) {
    return Math.round(micros / 1000.0 * 10) / 10.0;
  }
}
