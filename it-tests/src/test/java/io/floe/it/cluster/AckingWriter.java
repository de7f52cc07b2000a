package io.floe.it.cluster;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Load for the cluster tests: threads sending keyed NDJSON batches of uniquely identified events
 * over keep-alive connections, remembering exactly what was acknowledged. Each key belongs to one
 * thread, so a key's events have a well-defined order. A failed request is retried with the same
 * body and Idempotency-Key until acknowledged (as a careful producer does), so a request stored but
 * not acknowledged (a node killed before answering) must not show up twice. Bounded in time and
 * request count.
 */
final class AckingWriter {
  /** One acknowledged event. */
  record Acked(int partition, long sequence, String key, long keyOrder, String payload) {}

  final Map<String, Acked> acked = new ConcurrentHashMap<>();
  final AtomicLong errors = new AtomicLong();

  /** The first few refusals, "status body", so that a failing run says what it was refused. */
  final List<String> refusals = Collections.synchronizedList(new ArrayList<>());

  /** Batches acknowledged only after a retry (the first attempt failed or its answer was lost). */
  final AtomicLong retriedAndAcked = new AtomicLong();

  private final String target;
  private final int threads;
  private final int batch;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> running = new ArrayList<>();
  private final String run;
  private volatile String eventTime;

  AckingWriter(String target, int threads, int batch, String run) {
    this.target = target;
    this.threads = threads;
    this.batch = batch;
    this.run = run;
  }

  /** Gives every event this {@code event_time} (RFC 3339), e.g. one in an hour long closed. */
  AckingWriter eventTime(String time) {
    this.eventTime = time;
    return this;
  }

  void start() {
    for (int t = 0; t < threads; t++) {
      int thread = t;
      Thread th = new Thread(() -> loop(thread), "writer-" + t);
      running.add(th);
      th.start();
    }
  }

  void stop() throws InterruptedException {
    stop.set(true);
    for (Thread t : running) {
      t.join();
    }
  }

  private void loop(int thread) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long[] keyOrder = new long[20];
    for (int i = 0; i < 100_000 && !stop.get(); i++) {
      int k = i % keyOrder.length;
      String key = run + "-t" + thread + "-k" + k;
      StringBuilder body = new StringBuilder();
      String[] payloads = new String[batch];
      long firstOrder = keyOrder[k];
      for (int e = 0; e < batch; e++) {
        payloads[e] =
            "{\"id\":\""
                + key
                + "-"
                + (firstOrder + e)
                + "\",\"key\":\""
                + key
                + "\",\"n\":"
                + (firstOrder + e)
                + (eventTime == null ? "" : ",\"event_time\":\"" + eventTime + "\"")
                + "}";
        body.append(payloads[e]).append('\n');
      }
      keyOrder[k] += batch;
      // a producer that retries: the same body under the same Idempotency-Key until it is
      // acknowledged
      String idempotencyKey = key + "-" + firstOrder;
      for (int attempt = 0; attempt < 600 && !stop.get(); attempt++) {
        try {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(URI.create(target + "/v1/streams/load/events"))
                      .timeout(Duration.ofSeconds(30))
                      .header("Content-Type", "application/x-ndjson")
                      .header("X-Floe-Key", key)
                      .header("Idempotency-Key", idempotencyKey)
                      .header("Authorization", "Bearer " + LocalCluster.PRODUCER_TOKEN)
                      .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() != 200) {
            if (errors.incrementAndGet() <= 5) {
              refusals.add(r.statusCode() + " " + r.body());
            }
            Thread.sleep(50);
            continue;
          }
          if (attempt > 0) {
            retriedAndAcked.incrementAndGet();
          }
          JsonObject json = new JsonObject(r.body());
          int partition = json.getInteger("partition_id");
          long first = json.getLong("first_sequence");
          for (int e = 0; e < batch; e++) {
            acked.put(
                key + "-" + (firstOrder + e),
                new Acked(partition, first + e, key, firstOrder + e, payloads[e]));
          }
          break;
        } catch (InterruptedException e) {
          return;
        } catch (Exception e) {
          if (errors.incrementAndGet() <= 5) {
            refusals.add(e.toString());
          }
        }
      }
    }
  }
}
