package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dead letters on a whole cluster (3 nodes, a router, nginx): the stream's policy set to {@code
 * dead_letter} through the catalog service, mixed batches (good lines, malformed lines,
 * non-objects) sent through the load balancer with Idempotency-Keys and retried until acknowledged,
 * one node killed under that load and restarted. Every acknowledged good event is in the events
 * table once, and every acknowledged dead letter in the dead-letter table once, with its raw bytes,
 * at the {@code (partition_id, sequence)} its answer named.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeadLetterClusterTest {
  private static final String STREAM = "dl-orders";
  private LocalCluster cluster;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void startCluster(@TempDir Path dir) throws Exception {
    cluster = new LocalCluster(dir, 3, 1).start();
  }

  @AfterAll
  void stopCluster() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  /**
   * The other two policies through the load balancer: {@code reject} (the default) answers a bad
   * line with its 400 and keeps nothing, also when the request asks for dead letters; {@code
   * per_request} rejects unless the request asks, with {@code Floe-On-Error: dead-letter}, on every
   * node (keys spread the requests over the three).
   */
  @Test
  void rejectAndPerRequestPoliciesHoldOnEveryNode() throws Exception {
    HttpResponse<String> put =
        http.send(
            HttpRequest.newBuilder(URI.create(cluster.catalogUri() + "/floe/v1/streams/pr-*"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"on_error\":\"per_request\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);
    String bad = "{\"id\":1}\n{\"id\":\n";
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    for (int k = 0; k < 12; k++) {
      String key = "policy-k" + k;
      // per_request, asked: kept as a dead letter (once the node follows the new policy)
      HttpResponse<String> asked = post("pr-orders", key, bad, "dead-letter");
      while (asked.statusCode() != 200) {
        assertThat(asked.statusCode()).as(asked.body()).isEqualTo(400);
        assertThat(System.nanoTime())
            .as("nodes follow the per_request policy")
            .isLessThan(deadline);
        Thread.sleep(500);
        asked = post("pr-orders", key, bad, "dead-letter");
      }
      JsonObject answer = new JsonObject(asked.body());
      assertThat(answer.getInteger("accepted")).isEqualTo(1);
      assertThat(answer.getInteger("dead_lettered")).isEqualTo(1);
      // per_request, not asked: the request's 400
      HttpResponse<String> notAsked = post("pr-orders", key, bad, null);
      assertThat(notAsked.statusCode()).as(notAsked.body()).isEqualTo(400);
      assertThat(new JsonObject(notAsked.body()).getString("error")).isEqualTo("malformed_json");
      // reject: the 400, and asking for dead letters is refused by name
      HttpResponse<String> rejected = post("rj-orders", key, bad, null);
      assertThat(rejected.statusCode()).as(rejected.body()).isEqualTo(400);
      assertThat(new JsonObject(rejected.body()).getString("error")).isEqualTo("malformed_json");
      HttpResponse<String> refused = post("rj-orders", key, bad, "dead-letter");
      assertThat(refused.statusCode()).as(refused.body()).isEqualTo(400);
      assertThat(new JsonObject(refused.body()).getString("error"))
          .isEqualTo("dead_letters_not_allowed");
    }
  }

  private HttpResponse<String> post(String stream, String key, String body, String onError)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:" + cluster.nginx.port + "/v1/streams/" + stream + "/events"))
            .header("Content-Type", "application/x-ndjson")
            .header("X-Floe-Key", key)
            .header("Authorization", "Bearer " + LocalCluster.PRODUCER_TOKEN)
            .POST(HttpRequest.BodyPublishers.ofString(body));
    if (onError != null) {
      b.header("Floe-On-Error", onError);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void mixedBatchesAcrossANodeKillLandOnceInBothTables() throws Exception {
    HttpResponse<String> put =
        http.send(
            HttpRequest.newBuilder(URI.create(cluster.catalogUri() + "/floe/v1/streams/dl-*"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"on_error\":\"dead_letter\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

    MixedWriter w = new MixedWriter("http://127.0.0.1:" + cluster.nginx.port, 4, "dlkill");
    w.awaitPolicy();
    w.start();
    Thread.sleep(2500);
    JavaProcess victim = cluster.nodes.get(1);
    victim.kill();
    Thread.sleep(2500);
    victim.start().awaitHttp("/health/ready", Duration.ofSeconds(120));
    Thread.sleep(2500);
    w.stop();
    assertThat(w.good).hasSizeGreaterThan(300);
    assertThat(w.bad).hasSizeGreaterThan(100);
    assertThat(w.retriedAndAcked.get()).as("requests acknowledged only on a retry").isPositive();

    TableCheck check = new TableCheck(cluster);
    for (JavaProcess node : cluster.nodes) {
      check.flush(node);
    }
    Catalog catalog = CatalogConnector.open("check", CatalogConnector.rest(cluster.catalogUri()));

    Table events = catalog.loadTable(EventsTable.identifier(TableSettings.defaults()));
    Map<String, String> eventRows = new HashMap<>();
    try (CloseableIterable<Record> rows = IcebergGenerics.read(events).build()) {
      for (Record r : rows) {
        if (!STREAM.equals(r.getField("stream"))) {
          continue;
        }
        String ps = r.getField("partition_id") + "/" + r.getField("sequence");
        assertThat(eventRows.put(ps, (String) r.getField("payload")))
            .as("event (partition, sequence) %s twice", ps)
            .isNull();
      }
    }
    Map<String, Integer> idCount = new HashMap<>();
    for (String payload : eventRows.values()) {
      idCount.merge(new JsonObject(payload).getString("id"), 1, Integer::sum);
    }
    assertThat(idCount.values()).as("no good event twice").allMatch(n -> n == 1);
    for (Map.Entry<String, String> a : w.good.entrySet()) {
      assertThat(eventRows.get(a.getKey()))
          .as("acknowledged event %s", a.getKey())
          .isEqualTo(a.getValue());
    }

    Table deadLetters = catalog.loadTable(DeadLetterTable.identifier(TableSettings.defaults()));
    Map<String, String> deadRows = new HashMap<>();
    Map<String, Integer> rawCount = new HashMap<>();
    try (CloseableIterable<Record> rows = IcebergGenerics.read(deadLetters).build()) {
      for (Record r : rows) {
        if (!STREAM.equals(r.getField("stream"))) {
          continue;
        }
        ByteBuffer buf = ((ByteBuffer) r.getField("raw")).duplicate();
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        String raw = new String(bytes, StandardCharsets.UTF_8);
        String ps = r.getField("partition_id") + "/" + r.getField("sequence");
        assertThat(deadRows.put(ps, raw))
            .as("dead letter (partition, sequence) %s twice", ps)
            .isNull();
        assertThat(eventRows).as("%s in both tables", ps).doesNotContainKey(ps);
        rawCount.merge(raw, 1, Integer::sum);
      }
    }
    assertThat(rawCount.values()).as("no dead letter twice").allMatch(n -> n == 1);
    for (Map.Entry<String, String> a : w.bad.entrySet()) {
      assertThat(deadRows.get(a.getKey()))
          .as("acknowledged dead letter %s", a.getKey())
          .isEqualTo(a.getValue());
    }
  }

  /**
   * Threads sending keyed NDJSON batches where every third line is bad (alternately malformed and a
   * non-object), each bad line unique, retried under the same Idempotency-Key until acknowledged;
   * remembers each acknowledged line at the {@code partition/sequence} its answer gave it.
   */
  private static final class MixedWriter {
    final Map<String, String> good = new ConcurrentHashMap<>();
    final Map<String, String> bad = new ConcurrentHashMap<>();
    final AtomicLong retriedAndAcked = new AtomicLong();
    private final String target;
    private final int threads;
    private final String run;
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> running = new ArrayList<>();
    private final HttpClient http =
        HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    MixedWriter(String target, int threads, String run) {
      this.target = target;
      this.threads = threads;
      this.run = run;
    }

    /**
     * Nodes follow the policy within their refresh: sends mixed probes (remembered like the load)
     * until every one of a round is answered with its dead letters kept.
     */
    void awaitPolicy() throws Exception {
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      for (int round = 0; ; round++) {
        boolean all = true;
        for (int k = 0; k < 12; k++) {
          String key = run + "-probe-k" + k;
          List<String> good = List.of(goodLine(key, round));
          List<String> bad = List.of(badLine(key, round, 0));
          HttpResponse<String> r = send(key, key + "-" + round, body(good, bad, 2));
          if (r.statusCode() == 200) {
            remember(new JsonObject(r.body()), good, bad);
          } else {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
            all = false;
          }
        }
        if (all) {
          return;
        }
        assertThat(System.nanoTime())
            .as("nodes follow the dead_letter policy")
            .isLessThan(deadline);
        Thread.sleep(500);
      }
    }

    void start() {
      for (int t = 0; t < threads; t++) {
        int thread = t;
        Thread th = new Thread(() -> loop(thread), "mixed-writer-" + t);
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
      for (int i = 0; i < 100_000 && !stop.get(); i++) {
        String key = run + "-t" + thread + "-k" + (i % 10);
        List<String> good = new ArrayList<>();
        List<String> bad = new ArrayList<>();
        for (int e = 0; e < 30; e++) {
          if (e % 3 == 1) {
            bad.add(badLine(key, i, e));
          } else {
            good.add(goodLine(key, i * 100L + e));
          }
        }
        String body = body(good, bad, 3);
        for (int attempt = 0; attempt < 600 && !stop.get(); attempt++) {
          try {
            HttpResponse<String> r = send(key, key + "-" + i, body);
            if (r.statusCode() != 200) {
              Thread.sleep(50);
              continue;
            }
            if (attempt > 0) {
              retriedAndAcked.incrementAndGet();
            }
            remember(new JsonObject(r.body()), good, bad);
            break;
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            // the node or the connection went away: the same body again, same key
          }
        }
      }
    }

    private void remember(JsonObject answer, List<String> goodLines, List<String> badLines) {
      assertThat(answer.getInteger("accepted")).as(answer.encode()).isEqualTo(goodLines.size());
      assertThat(answer.getInteger("dead_lettered")).as(answer.encode()).isEqualTo(badLines.size());
      int partition = answer.getInteger("partition_id");
      long first = answer.getLong("first_sequence");
      for (int e = 0; e < goodLines.size(); e++) {
        good.put(partition + "/" + (first + e), goodLines.get(e));
      }
      long firstDead = answer.getLong("dead_letters_first_sequence");
      for (int e = 0; e < badLines.size(); e++) {
        bad.put(partition + "/" + (firstDead + e), badLines.get(e));
      }
    }

    private HttpResponse<String> send(String key, String idempotencyKey, String body)
        throws Exception {
      return http.send(
          HttpRequest.newBuilder(URI.create(target + "/v1/streams/" + STREAM + "/events"))
              .timeout(Duration.ofSeconds(30))
              .header("Content-Type", "application/x-ndjson")
              .header("X-Floe-Key", key)
              .header("Idempotency-Key", idempotencyKey)
              .header("Authorization", "Bearer " + LocalCluster.PRODUCER_TOKEN)
              .POST(HttpRequest.BodyPublishers.ofString(body))
              .build(),
          HttpResponse.BodyHandlers.ofString());
    }

    /** Good and bad lines interleaved: every {@code every}-th line (from the second) bad. */
    private static String body(List<String> good, List<String> bad, int every) {
      StringBuilder sb = new StringBuilder();
      int g = 0;
      int b = 0;
      for (int e = 0; g < good.size() || b < bad.size(); e++) {
        String line =
            (e % every == 1 && b < bad.size()) || g >= good.size() ? bad.get(b++) : good.get(g++);
        sb.append(line).append('\n');
      }
      return sb.toString();
    }

    private static String goodLine(String key, long n) {
      return "{\"id\":\"" + key + "-" + n + "\",\"key\":\"" + key + "\",\"n\":" + n + "}";
    }

    /** Malformed JSON or a JSON value that is not an object, naming its batch and line. */
    private static String badLine(String key, long batch, int line) {
      return line % 2 == 0
          ? "{\"id\":\"" + key + "-bad-" + batch + "-" + line + "\",\"n\":"
          : "[\"" + key + "-bad-" + batch + "-" + line + "\",1]";
    }
  }
}
