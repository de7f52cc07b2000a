package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.node.process.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A node process with acknowledged events and dead letters, SIGKILLed between the write and the
 * flush, and at the points of the flush's dead-letter half; after a restart each event is once in
 * the events table and each dead letter once in the dead-letter table.
 */
class DeadLetterCrashTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir Path tmp;

  @ParameterizedTest
  @ValueSource(strings = {"none", "dead-letters-after-upload", "dead-letters-after-commit"})
  void aKillLosesAndDoublesNothingInEitherTable(String point) throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      EventsTable.ensure(env.service.catalog(), TableSettings.defaults());
      assertThat(DeadLetterIngestTest.setPolicy(env, "crash", "dead_letter").statusCode())
          .isEqualTo(200);
      Path data = tmp.resolve("node");
      Map<Long, String> events = new HashMap<>();
      Map<Long, String> dead = new HashMap<>();
      List<String> faulty =
          point.equals("none") ? List.of() : List.of("-D" + FaultPoint.PROPERTY + "=" + point);
      try (NodeProcess node =
          NodeProcess.start(data, tmp.resolve("node-1.log"), env.nodeEnv(4, data), faulty)) {
        for (int b = 0; b < 4; b++) {
          send(node.port, "before-" + b, events, dead);
        }
        if (!point.equals("none")) {
          HTTP.sendAsync(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port + "/v1/flush"))
                  .POST(HttpRequest.BodyPublishers.noBody())
                  .build(),
              HttpResponse.BodyHandlers.discarding());
          node.awaitLog("fault point reached: " + point);
        }
        node.kill();
      }
      try (NodeProcess node =
          NodeProcess.start(data, tmp.resolve("node-2.log"), env.nodeEnv(4, data))) {
        send(node.port, "after", events, dead);
        HttpResponse<String> flushed = new Ingest().flushUntilCommitted(node.port);
        assertThat(flushed.statusCode()).as(flushed.body()).isEqualTo(200);
        assertThat(new JsonObject(flushed.body()).getLong("committed_sequence")).isEqualTo(5L * 12);
        node.terminate();
      }
      Ingest.assertExactly(env.rows(), 4, events);
      Map<Long, String> seen = new HashMap<>();
      for (Record r : DeadLetterIngestTest.deadLetterRows(env)) {
        String raw = StandardCharsets.UTF_8.decode((ByteBuffer) r.getField("raw")).toString();
        assertThat(seen.put((Long) r.getField("sequence"), raw))
            .as("dead letter %s is in the table twice", r.getField("sequence"))
            .isNull();
      }
      assertThat(seen).isEqualTo(dead);
    }
  }

  /**
   * A replay killed after its events were committed but before its record reached the dead-letter
   * table, resumed after a restart: the dead letter became one event, not two, and its replay is
   * recorded once, though the replay's write carries no idempotency key (and the restarted node
   * keeps none past a second, as if {@code idempotency.retention-seconds} had passed, should one
   * come back) and the resumed replay comes before the restart's own flush: the replay flushes what
   * the buffer holds before it chooses (without that, the dead letter became a second event).
   */
  @Test
  void aReplayResumedAfterACrashWritesEachEventOnce() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      EventsTable.ensure(env.service.catalog(), TableSettings.defaults());
      assertThat(DeadLetterIngestTest.setPolicy(env, "crash", "dead_letter").statusCode())
          .isEqualTo(200);
      assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "reject", null).statusCode())
          .isEqualTo(201);
      Path data = tmp.resolve("node");
      try (NodeProcess node =
          NodeProcess.start(data, tmp.resolve("node-1.log"), env.nodeEnv(4, data))) {
        HttpResponse<String> r =
            DeadLetterIngestTest.post(
                node.port,
                "crash",
                "application/x-ndjson",
                "{\"id\":1,\"qty\":\"one\"}\n{\"id\":2,\"qty\":2}\n",
                null);
        assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).isEqualTo(1);
        assertThat(new Ingest().flushUntilCommitted(node.port).statusCode()).isEqualTo(200);
        node.terminate();
      }
      // the fix, then a replay killed halfway: events committed, its record not
      assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "null", null).statusCode())
          .isEqualTo(200);
      List<String> faulty = List.of("-D" + FaultPoint.PROPERTY + "=dead-letters-after-upload");
      try (NodeProcess node =
          NodeProcess.start(data, tmp.resolve("node-2.log"), env.nodeEnv(4, data), faulty)) {
        awaitJoined(node.port);
        HTTP.sendAsync(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + node.port + "/floe/v1/dead-letter/replay"))
                .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":\"crash\"}"))
                .build(),
            HttpResponse.BodyHandlers.discarding());
        node.awaitLog("fault point reached: dead-letters-after-upload");
        node.kill();
      }
      assertThat(env.rows()).hasSize(2);
      // no key to find: the restart forgets any within a second
      Map<String, String> resumed = env.nodeEnv(4, data);
      resumed.put("FLOE_IDEMPOTENCY_RETENTION_SECONDS", "1");
      Thread.sleep(1500);
      try (NodeProcess node = NodeProcess.start(data, tmp.resolve("node-3.log"), resumed)) {
        awaitJoined(node.port);
        HttpResponse<String> r =
            HTTP.send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + node.port + "/floe/v1/dead-letter/replay"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"stream\":\"crash\"}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(new JsonObject(r.body()).getInteger("replayed")).as(r.body()).isZero();
        node.terminate();
      }
      List<String> payloads = new ArrayList<>();
      env.rows().forEach(row -> payloads.add(row.payload()));
      assertThat(payloads)
          .containsExactlyInAnyOrder("{\"id\":1,\"qty\":\"one\"}", "{\"id\":2,\"qty\":2}");
      List<Record> dead = DeadLetterIngestTest.deadLetterRows(env);
      assertThat(dead).hasSize(2);
      assertThat(dead.stream().filter(d -> "replayed".equals(d.getField("error_code")))).hasSize(1);
    }
  }

  /** Waits (at most a minute) until the node has joined the table: replays need it. */
  private static void awaitJoined(int port) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!new Ingest().get(port, "/v1/status").body().contains("\"table_joined\":true")) {
      assertThat(System.nanoTime()).as("the node joins the table").isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  /** Ten good events and two bad lines; records what the answer says was stored where. */
  private static void send(int port, String tag, Map<Long, String> events, Map<Long, String> dead)
      throws Exception {
    StringBuilder body = new StringBuilder();
    String[] good = new String[10];
    String[] bad = {"{\"id\":\"" + tag + "-bad-1\",", "\"" + tag + "-bad-2\""};
    for (int i = 0; i < 10; i++) {
      good[i] = "{\"id\":\"" + tag + "-" + i + "\"}";
      body.append(good[i]).append('\n');
      if (i == 3) {
        body.append(bad[0]).append('\n');
      }
    }
    body.append(bad[1]).append('\n');
    HttpResponse<String> r =
        HTTP.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/v1/streams/crash/events"))
                .header("Content-Type", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonObject answer = new JsonObject(r.body());
    long first = answer.getLong("first_sequence");
    for (int i = 0; i < 10; i++) {
      events.put(first + i, good[i]);
    }
    long firstDead = answer.getLong("dead_letters_first_sequence");
    dead.put(firstDead, bad[0]);
    dead.put(firstDead + 1, bad[1]);
  }
}
