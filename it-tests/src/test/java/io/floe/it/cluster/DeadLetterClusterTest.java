package io.floe.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.FloeCli;
import io.floe.catalog.table.DeadLetterTable;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.node.flush.FaultPoint;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
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
 * at the {@code (partition_id, sequence)} its answer named. Then replay on the same cluster: on
 * every partition, resumed after a kill, repeated, each dead letter once. Each node replays its own
 * partition; the replays go through the load balancer, whose router asks every node and adds up (an
 * error naming a node that failed or is down).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeadLetterClusterTest {
  private static final String STREAM = "dl-orders";
  private static final String REPLAY_STREAM = "rp-orders";

  /** Whose dead letters are checked for their principal (policy {@code pa-*}). */
  private static final String PRINCIPAL_STREAM = "pa-orders";

  /** Under the default policy ({@code reject}) with the replay stream's column: who follows it. */
  private static final String PROBE_STREAM = "qty-probe";

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
    return postAsync(stream, key, body, onError).get(1, TimeUnit.MINUTES);
  }

  /**
   * Sends each key's body to {@code stream}, twelve at a time (a producer may have 16 requests in
   * flight); the answers by key.
   */
  private Map<String, HttpResponse<String>> postAll(String stream, Map<String, String> bodies)
      throws Exception {
    Map<String, CompletableFuture<HttpResponse<String>>> sent = new LinkedHashMap<>();
    Map<String, HttpResponse<String>> answers = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : bodies.entrySet()) {
      sent.put(e.getKey(), postAsync(stream, e.getKey(), e.getValue(), null));
      if (sent.size() == 12) {
        for (Map.Entry<String, CompletableFuture<HttpResponse<String>>> s : sent.entrySet()) {
          answers.put(s.getKey(), s.getValue().get(1, TimeUnit.MINUTES));
        }
        sent.clear();
      }
    }
    for (Map.Entry<String, CompletableFuture<HttpResponse<String>>> s : sent.entrySet()) {
      answers.put(s.getKey(), s.getValue().get(1, TimeUnit.MINUTES));
    }
    return answers;
  }

  /** Sends {@code body} (NDJSON) to {@code stream} through the load balancer, keyed. */
  private CompletableFuture<HttpResponse<String>> postAsync(
      String stream, String key, String body, String onError) {
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
    return http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Replay on a cluster, through the load balancer: dead letters on every partition (a typed column
   * refusing text) are flushed; the cause is fixed (text becomes null); one replay through the
   * router has each node replay its own partition's, node 1 stopped in its replay's flush after the
   * replayed events were committed but before their replay records were, and SIGKILLed: the
   * router's answer is a 502 naming node 1 with the others' counts. Asked again while node 1 is
   * down: a 503 naming it. Node 1 restarted, the replay resumed by {@code scripts/floe dead-letter
   * replay --router} through the load balancer; then two replays through it at once (each node
   * asked twice). Every fixed record is an event once, every dead letter has one replay record, and
   * the record that cannot be fixed waits as a dead letter with its replay count raised by each
   * replay.
   */
  @Test
  void aReplayOnEveryPartitionIsExactlyOnceRepeatedAndResumedAfterAKill() throws Exception {
    assertThat(setPolicy("rp-*", "dead_letter").statusCode()).isEqualTo(200);
    assertThat(qtyColumn("reject").statusCode()).isEqualTo(201);
    awaitProbes(400); // every node refuses text in qty: it follows the column and the policy

    Set<String> good = new HashSet<>();
    Set<String> fixable = new HashSet<>();
    Set<String> broken = new HashSet<>();
    Map<Integer, Integer> requestsPerPartition = new HashMap<>();
    for (int round = 0; round == 0 || requestsPerPartition.size() < 3; round++) {
      assertThat(round).as("keys reach every partition").isLessThan(5);
      Map<String, String> bodies = new LinkedHashMap<>();
      Map<String, Integer> deadPerKey = new HashMap<>();
      for (int k = round * 24; k < round * 24 + 24; k++) {
        String key = "rp-k" + k;
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
          lines.add("{\"id\":\"" + key + "-g" + i + "\",\"qty\":" + i + "}");
          lines.add("{\"id\":\"" + key + "-m" + i + "\",\"qty\":\"" + i + "\"}");
        }
        good.add(lines.get(0));
        good.add(lines.get(2));
        fixable.add(lines.get(1));
        fixable.add(lines.get(3));
        if (k % 4 == 0) {
          lines.add("{\"id\":\"" + key + "-broken\",\"qty\":");
          broken.add(lines.get(4));
        }
        bodies.put(key, String.join("\n", lines) + "\n");
        deadPerKey.put(key, lines.size() - 2);
      }
      for (Map.Entry<String, HttpResponse<String>> e : postAll(REPLAY_STREAM, bodies).entrySet()) {
        HttpResponse<String> r = e.getValue();
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonObject answer = new JsonObject(r.body());
        assertThat(answer.getInteger("accepted")).as(r.body()).isEqualTo(2);
        assertThat(answer.getInteger("dead_lettered"))
            .as(r.body())
            .isEqualTo(deadPerKey.get(e.getKey()));
        requestsPerPartition.merge(answer.getInteger("partition_id"), 1, Integer::sum);
      }
    }
    TableCheck check = new TableCheck(cluster);
    for (JavaProcess node : cluster.nodes) {
      check.flush(node);
    }
    List<TableRows.DeadLetter> originals = TableRows.deadLetters(cluster, REPLAY_STREAM);
    List<String> kept = new ArrayList<>(fixable);
    kept.addAll(broken);
    assertThat(originals.stream().map(TableRows.DeadLetter::raw))
        .containsExactlyInAnyOrderElementsOf(kept);
    assertThat(originals.stream().map(d -> partitionOf(d.id())).distinct()).hasSize(3);

    // the fix: text in qty becomes null (the payload keeps it). Node 1 restarts meanwhile, armed to
    // stop in its replay's flush once the replayed events are committed, not yet their records (it
    // has nothing else to flush: all was flushed, and the probes keep nothing); it reads the fixed
    // mapping as it joins
    assertThat(qtyColumn("null").statusCode()).isEqualTo(200);
    JavaProcess victim = cluster.nodes.get(1);
    String point = FaultPoint.DEAD_LETTERS_AFTER_UPLOAD.label();
    victim.kill();
    victim.start(List.of("-D" + FaultPoint.PROPERTY + "=" + point));
    awaitProbes(200);
    victim.awaitHttp("/health/ready", Duration.ofSeconds(120));
    awaitJoined(victim);
    JsonObject filter = new JsonObject().put("stream", REPLAY_STREAM);
    String victimId = "127.0.0.1:" + victim.port;
    CompletableFuture<HttpResponse<String>> stopped = replayAsync(filter);
    victim.awaitLog("fault point reached: " + point, Duration.ofSeconds(120));
    assertThat(stopped).isNotDone();
    victim.kill();
    // the router's answer: node 1's replay did not finish, the others' did; never a 200
    HttpResponse<String> cut = stopped.get(2, TimeUnit.MINUTES);
    assertThat(cut.statusCode()).as(cut.body()).isEqualTo(502);
    JsonObject cutAnswer = new JsonObject(cut.body());
    assertThat(cutAnswer.getJsonArray("failed_nodes")).as(cut.body()).containsExactly(victimId);
    assertThat(cutAnswer.getString("detail")).contains(victimId).contains("partition 1");
    int replayed = cutAnswer.getInteger("replayed");
    // asked again while node 1 is down: 503 naming it; the others have nothing left to replay
    HttpResponse<String> down = replayAsync(filter).get(2, TimeUnit.MINUTES);
    // (503: refused; 502 only if a pooled connection to the killed node was not yet seen closed)
    assertThat(down.statusCode()).as(down.body()).isIn(502, 503);
    JsonObject downAnswer = new JsonObject(down.body());
    assertThat(downAnswer.getJsonArray("failed_nodes")).as(down.body()).containsExactly(victimId);
    assertThat(downAnswer.getInteger("replayed")).as(down.body()).isZero();
    long partition1 =
        TableRows.events(cluster, REPLAY_STREAM).keySet().stream()
            .filter(id -> partitionOf(id) == 1)
            .count();
    assertThat(partition1)
        .as("some of node 1's replayed events were committed before the kill")
        .isGreaterThan(2L * requestsPerPartition.get(1));
    assertThat(replayed).isPositive().isLessThan(fixable.size());

    // resumed: node 1 restarted, all three asked again by the CLI through the load balancer
    victim.start().awaitHttp("/health/ready", Duration.ofSeconds(120));
    awaitJoined(victim);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int rc =
        new FloeCli(
                new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8))
            .run(
                new String[] {
                  "--token",
                  LocalCluster.OPERATOR_TOKEN,
                  "dead-letter",
                  "replay",
                  "--stream",
                  REPLAY_STREAM,
                  "--router",
                  "http://127.0.0.1:" + cluster.nginx.port
                });
    assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("replayed: 0 became events");
    Map<String, String> events = assertReplayedOnce(originals, good, fixable, broken);
    Map<String, Integer> waiting = waitingReplayCounts(broken);

    // repeated, twice at once (every node asked twice): no event again, the broken ones fail again
    List<CompletableFuture<HttpResponse<String>>> again =
        List.of(replayAsync(filter), replayAsync(filter));
    for (CompletableFuture<HttpResponse<String>> f : again) {
      HttpResponse<String> r = f.get(2, TimeUnit.MINUTES);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(new JsonObject(r.body()).getInteger("replayed")).as(r.body()).isZero();
    }
    assertThat(assertReplayedOnce(originals, good, fixable, broken)).isEqualTo(events);
    waitingReplayCounts(broken)
        .forEach(
            (raw, count) ->
                assertThat(count).as("replay count of %s", raw).isGreaterThan(waiting.get(raw)));
  }

  /**
   * The stream's events are the good and the fixed lines, each once; each original dead letter has
   * exactly one replay record ({@code replayed} for the fixed, {@code malformed_json} with replay
   * count 1 for the broken), and no dead letter was replayed twice. Returns the events by id.
   */
  private Map<String, String> assertReplayedOnce(
      List<TableRows.DeadLetter> originals,
      Set<String> good,
      Set<String> fixable,
      Set<String> broken)
      throws Exception {
    Map<String, String> events = TableRows.events(cluster, REPLAY_STREAM);
    List<String> expected = new ArrayList<>(good);
    expected.addAll(fixable);
    assertThat(events.values())
        .as("each fixed record once")
        .containsExactlyInAnyOrderElementsOf(expected);
    Map<String, List<TableRows.DeadLetter>> records = new HashMap<>();
    for (TableRows.DeadLetter d : TableRows.deadLetters(cluster, REPLAY_STREAM)) {
      if (d.replayOf() != null) {
        records.computeIfAbsent(d.replayOf(), id -> new ArrayList<>()).add(d);
      }
    }
    records.forEach((id, r) -> assertThat(r).as("replay records of %s", id).hasSize(1));
    for (TableRows.DeadLetter o : originals) {
      assertThat(records.get(o.id())).as("replay record of %s", o.id()).hasSize(1);
      TableRows.DeadLetter r = records.get(o.id()).get(0);
      if (fixable.contains(o.raw())) {
        assertThat(r.code()).isEqualTo("replayed");
        assertThat(r.replayCount()).isZero();
      } else {
        assertThat(broken).contains(o.raw());
        assertThat(r.code()).isEqualTo("malformed_json");
        assertThat(r.raw()).isEqualTo(o.raw());
        assertThat(r.replayCount()).isEqualTo(1);
      }
    }
    return events;
  }

  /**
   * The dead letters waiting on every node, listed through the load balancer: each broken line
   * once; raw line to replay count.
   */
  private Map<String, Integer> waitingReplayCounts(Set<String> broken) throws Exception {
    Map<String, Integer> counts = new HashMap<>();
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:"
                            + cluster.nginx.port
                            + "/floe/v1/dead-letter?stream="
                            + REPLAY_STREAM))
                .header("Authorization", "Bearer " + LocalCluster.OPERATOR_TOKEN)
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    for (Object o : new JsonObject(r.body()).getJsonArray("dead_letters")) {
      JsonObject d = (JsonObject) o;
      String raw =
          new String(Base64.getDecoder().decode(d.getString("raw_base64")), StandardCharsets.UTF_8);
      assertThat(d.getString("code")).isEqualTo("malformed_json");
      assertThat(d.getInteger("partition_id")).isEqualTo(partitionOf(d.getString("id")));
      assertThat(counts.put(raw, d.getInteger("replay_count"))).as("%s waits twice", raw).isNull();
    }
    assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(broken);
    return counts;
  }

  /** A replay through the load balancer (its router asks every node). */
  private CompletableFuture<HttpResponse<String>> replayAsync(JsonObject filter) {
    return http.sendAsync(
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:" + cluster.nginx.port + "/floe/v1/dead-letter/replay"))
            .header("Authorization", "Bearer " + LocalCluster.OPERATOR_TOKEN)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(filter.encode()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Waits (at most two minutes) until {@code node} has joined the table: replays need it. */
  private void awaitJoined(JavaProcess node) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port + "/v1/status"))
                  .header("Authorization", "Bearer " + LocalCluster.OPERATOR_TOKEN)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200 && r.body().contains("\"table_joined\":true")) {
        return;
      }
      assertThat(System.nanoTime()).as("%s joins the table", node.name).isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  /**
   * Sends a text {@code qty} to the probe stream (policy {@code reject}, so nothing is kept) on 24
   * keys until every one is answered {@code status}: each node then follows the latest mapping.
   */
  private void awaitProbes(int status) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    for (int round = 0; ; round++) {
      Map<String, String> probes = new LinkedHashMap<>();
      for (int k = 0; k < 24; k++) {
        probes.put(
            "probe-k" + k,
            "{\"id\":\"probe-" + status + "-" + round + "-" + k + "\",\"qty\":\"x\"}\n");
      }
      boolean all = true;
      for (HttpResponse<String> r : postAll(PROBE_STREAM, probes).values()) {
        assertThat(r.statusCode()).as(r.body()).isIn(200, 400);
        all &= r.statusCode() == status;
      }
      if (all) {
        return;
      }
      assertThat(System.nanoTime()).as("nodes follow the qty mapping").isLessThan(deadline);
      Thread.sleep(500);
    }
  }

  /** {@code qty} as a long column of the replay and probe streams, text refused or made null. */
  private HttpResponse<String> qtyColumn(String onMismatch) throws Exception {
    JsonObject body =
        new JsonObject()
            .put("name", "qty")
            .put("type", "long")
            .put("path", "qty")
            .put("on_mismatch", onMismatch)
            .put("streams", new JsonArray(List.of(REPLAY_STREAM, PROBE_STREAM)));
    return http.send(
        HttpRequest.newBuilder(URI.create(cluster.catalogUri() + "/floe/v1/columns"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> setPolicy(String pattern, String policy) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(cluster.catalogUri() + "/floe/v1/streams/" + pattern))
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString("{\"on_error\":\"" + policy + "\"}"))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static int partitionOf(String id) {
    return Integer.parseInt(id.substring(0, id.indexOf('-')));
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
    // every batch was acknowledged in the end (those in flight or sent while node 1 was down after
    // it came back), so the kill was crossed by retries under the same keys: the checks below
    // prove those retries stored nothing twice
    assertThat(w.abandoned.get()).as("batches never acknowledged").isZero();
    assertThat(w.retriedAndAcked.get()).as("requests acknowledged only on a retry").isPositive();

    TableCheck check = new TableCheck(cluster);
    for (JavaProcess node : cluster.nodes) {
      check.flush(node);
    }
    Map<String, String> eventRows = TableRows.events(cluster, STREAM);
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

    Map<String, String> deadRows = new HashMap<>();
    Map<String, Integer> rawCount = new HashMap<>();
    for (TableRows.DeadLetter d : TableRows.deadLetters(cluster, STREAM)) {
      assertThat(eventRows).as("%s in both tables", d.id()).doesNotContainKey(d.id());
      deadRows.put(d.id(), d.raw());
      rawCount.merge(d.raw(), 1, Integer::sum);
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
   * remembers each acknowledged line at the id {@code partition-sequence} its answer gave it.
   *
   * <p>{@link #stop} stops new batches, not the retries of one not yet acknowledged: a batch sent
   * while a node was down is retried until that node is back, however long its restart takes on a
   * loaded machine (a retry budget counted in attempts, and cut by the stop, once left such a batch
   * unacknowledged when the restart was slow, and with it no request acknowledged on a retry).
   */
  private static final class MixedWriter {
    /** How long a batch is retried after {@link #stop}, or at all. */
    private static final Duration RETRY_AFTER_STOP = Duration.ofMinutes(2);

    private static final Duration RETRY_AT_MOST = Duration.ofMinutes(5);

    final Map<String, String> good = new ConcurrentHashMap<>();
    final Map<String, String> bad = new ConcurrentHashMap<>();
    final AtomicLong retriedAndAcked = new AtomicLong();

    /**
     * Batches given up unacknowledged (past {@link #RETRY_AFTER_STOP} or {@link #RETRY_AT_MOST}).
     */
    final AtomicLong abandoned = new AtomicLong();

    private volatile long stoppedAt;
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
        th.setDaemon(true); // a test that fails before stop() leaves no retrying thread behind
        running.add(th);
        th.start();
      }
    }

    void stop() throws InterruptedException {
      stoppedAt = System.nanoTime();
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
        long firstSent = System.nanoTime();
        boolean acknowledged = false;
        for (int attempt = 0; !acknowledged; attempt++) {
          long now = System.nanoTime();
          if (now - firstSent > RETRY_AT_MOST.toNanos()
              || (stop.get() && now - stoppedAt > RETRY_AFTER_STOP.toNanos())) {
            abandoned.incrementAndGet();
            break;
          }
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
            acknowledged = true;
          } catch (InterruptedException e) {
            return;
          } catch (Exception e) {
            // the node or the connection went away: the same body again, same key
            try {
              Thread.sleep(50);
            } catch (InterruptedException stopped) {
              return;
            }
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
        good.put(partition + "-" + (first + e), goodLines.get(e));
      }
      long firstDead = answer.getLong("dead_letters_first_sequence");
      for (int e = 0; e < badLines.size(); e++) {
        bad.put(partition + "-" + (firstDead + e), badLines.get(e));
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

  /**
   * Who sent a dead letter, with authentication on, through a router: the producer's token is
   * checked at the router, which forwards with its own node token ({@code router.node-token}) and
   * names the producer in {@code X-Floe-Principal}. The dead-letter table's {@code principal} is
   * the producer's token name; no column of either table holds a token's secret (the producer's,
   * the router's or the operator's), and a {@code X-Floe-Principal} the client sent itself is
   * recorded nowhere.
   */
  @Test
  void theDeadLettersPrincipalIsTheProducersTokenNameAndNoSecretIsKept() throws Exception {
    HttpResponse<String> put =
        http.send(
            HttpRequest.newBuilder(URI.create(cluster.catalogUri() + "/floe/v1/streams/pa-*"))
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"on_error\":\"dead_letter\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

    String forged = "mallory-" + UUID.randomUUID();
    String body = "{\"id\":1}\n{\"id\":\n[2]\n{\"id\":3}\n";
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    HttpResponse<String> sent = sendAs(cluster, body, forged);
    while (sent.statusCode() == 400 || sent.statusCode() >= 500) {
      // until the nodes follow the new policy, and are up (a refused request stored nothing)
      assertThat(System.nanoTime()).as(sent.body()).isLessThan(deadline);
      Thread.sleep(500);
      sent = sendAs(cluster, body, forged);
    }
    assertThat(sent.statusCode()).as(sent.body()).isEqualTo(200);
    JsonObject answer = new JsonObject(sent.body());
    assertThat(answer.getInteger("accepted")).isEqualTo(2);
    assertThat(answer.getInteger("dead_lettered")).isEqualTo(2);

    // flushed within a second or two (flush.max-age-seconds=1)
    List<Record> dead = List.of();
    List<Record> events = List.of();
    while (dead.size() < 2 || events.size() < 2) {
      assertThat(System.nanoTime()).as("flushed: %s, %s", dead, events).isLessThan(deadline);
      Thread.sleep(500);
      dead = allColumns(cluster, DeadLetterTable.identifier(TableSettings.defaults()));
      events = allColumns(cluster, EventsTable.identifier(TableSettings.defaults()));
    }
    assertThat(dead).hasSize(2);
    assertThat(events).hasSize(2);
    for (Record d : dead) {
      assertThat(d.getField("principal")).isEqualTo("producer");
    }
    List<String> secrets =
        List.of(
            LocalCluster.PRODUCER_TOKEN,
            LocalCluster.ROUTER_TOKEN,
            LocalCluster.OPERATOR_TOKEN,
            forged);
    List<Record> all = new ArrayList<>(dead);
    all.addAll(events);
    for (Record r : all) {
      for (int i = 0; i < r.size(); i++) {
        String text = text(r.get(i));
        for (String secret : secrets) {
          assertThat(text)
              .as("column %s of %s", r.struct().fields().get(i).name(), r)
              .doesNotContain(secret);
        }
      }
    }
  }

  /** Through the router (not the load balancer): the producer's token and a forged principal. */
  private HttpResponse<String> sendAs(LocalCluster cluster, String body, String forged)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:"
                        + cluster.routers.get(0).port
                        + "/v1/streams/"
                        + PRINCIPAL_STREAM
                        + "/events"))
            .header("Content-Type", "application/x-ndjson")
            .header("Authorization", "Bearer " + LocalCluster.PRODUCER_TOKEN)
            .header("X-Floe-Principal", forged)
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Every row of the table for the stream, every column. */
  private static List<Record> allColumns(LocalCluster cluster, TableIdentifier id)
      throws Exception {
    Catalog catalog = CatalogConnector.open("rows", CatalogConnector.rest(cluster.catalogUri()));
    Table table = catalog.loadTable(id);
    List<Record> out = new ArrayList<>();
    try (CloseableIterable<Record> rows =
        IcebergGenerics.read(table).where(Expressions.equal("stream", PRINCIPAL_STREAM)).build()) {
      for (Record r : rows) {
        out.add(r.copy());
      }
    }
    return out;
  }

  /** A column's value as text: strings as they are, bytes as UTF-8 and Latin-1, others printed. */
  private static String text(Object value) {
    if (value == null) {
      return "";
    }
    if (value instanceof ByteBuffer buffer) {
      ByteBuffer b = buffer.duplicate();
      byte[] bytes = new byte[b.remaining()];
      b.get(bytes);
      return new String(bytes, StandardCharsets.UTF_8)
          + "\n"
          + new String(bytes, StandardCharsets.ISO_8859_1);
    }
    if (value instanceof byte[] bytes) {
      return new String(bytes, StandardCharsets.UTF_8);
    }
    return String.valueOf(value);
  }
}
