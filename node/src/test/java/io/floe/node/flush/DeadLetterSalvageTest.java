package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.SalvageMain;
import io.floe.node.buffer.DeadLetters;
import io.floe.node.buffer.RocksBuffer;
import io.floe.node.buffer.SalvageExport;
import io.floe.node.config.NodeConfig;
import io.floe.node.event.DeadLetterBatch;
import io.floe.node.event.EventBatch;
import io.floe.node.process.NodeProcess;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.data.Record;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/**
 * Dead letters a node acknowledged under a claim another process then took are salvaged like its
 * events: the node refuses to claim until they are exported, the export holds each with its raw
 * bytes and context, the dead-letter table never takes them under the other process's sequences,
 * and a re-send brings each to the dead-letter table once.
 */
class DeadLetterSalvageTest {
  @TempDir Path tmp;

  private static Map<String, String> settings(TableEnv env, Path dir) {
    Map<String, String> s = env.nodeSettings(5);
    s.put("buffer.dir", dir.toString());
    s.put("flush.claim-check-seconds", "3600"); // A learns of B's claim only when it commits
    return s;
  }

  /**
   * Three good lines and two bad ones (a malformed line, a value that is no object) tagged {@code
   * tag}; adds the bad lines' text to {@code bad}.
   */
  private static void send(int port, String tag, List<String> bad) throws Exception {
    String broken = "{\"id\":\"" + tag + "-broken\",";
    String notObject = "\"" + tag + "-not-an-object\"";
    String body =
        "{\"id\":\""
            + tag
            + "-0\"}\n"
            + broken
            + "\n{\"id\":\""
            + tag
            + "-1\"}\n"
            + notObject
            + "\n{\"id\":\""
            + tag
            + "-2\"}\n";
    HttpResponse<String> r =
        DeadLetterIngestTest.post(port, "dl", "application/x-ndjson", body, "key-" + tag);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).isEqualTo(2);
    bad.add(broken);
    bad.add(notObject);
  }

  private static List<String> deadLetterRaws(TableEnv env) throws Exception {
    List<String> raws = new ArrayList<>();
    for (Record r : DeadLetterIngestTest.deadLetterRows(env)) {
      raws.add(StandardCharsets.UTF_8.decode((ByteBuffer) r.getField("raw")).toString());
    }
    return raws;
  }

  private static Map<String, Integer> eventIds(TableEnv env) throws Exception {
    Map<String, Integer> ids = new HashMap<>();
    for (TableEnv.Row row : env.rows()) {
      ids.merge(new JsonObject(row.payload()).getString("id"), 1, Integer::sum);
    }
    return ids;
  }

  /**
   * Deletes the dead-letter table's claim epoch from a stopped node's buffer, as a buffer of the
   * release before it was recorded lacks it.
   */
  private static void asIfWrittenByTheEarlierRelease(Path dir) throws Exception {
    byte[] name = "dead_claim_epoch".getBytes(StandardCharsets.US_ASCII);
    byte[] key = new byte[name.length + 1];
    System.arraycopy(name, 0, key, 1, name.length);
    try (Options options = new Options();
        RocksDB db = RocksDB.open(options, dir.toString())) {
      assertThat(db.get(key)).as("recorded by this release").isNotNull();
      db.delete(key);
    }
  }

  private static void assertSalvageNeeded(Ingest ingest, Node node) throws Exception {
    HttpResponse<String> ready = ingest.get(node.port(), "/health/ready");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(ready.body()).getString("reason")).isEqualTo("salvage_needed");
  }

  /** The events (their ids) and the dead letters (their raw bytes as text) of a salvage file. */
  private record Salvaged(List<String> eventIds, List<String> deadLetters) {}

  private static Salvaged salvage(Path dir, Path out) throws Exception {
    SalvageMain.main(
        new String[] {
          "--buffer-dir", dir.toString(), "--partition-id", "5", "--out", out.toString()
        });
    List<String> events = new ArrayList<>();
    List<String> dead = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      JsonObject o = new JsonObject(line);
      if ("dead_letter".equals(o.getString("kind"))) {
        assertThat(o.getString("stream")).isEqualTo("dl");
        assertThat(o.getString("error_code")).as(line).isNotBlank();
        assertThat(o.getString("content_type")).isEqualTo("application/x-ndjson");
        assertThat(o.getInteger("position")).isIn(2, 4);
        assertThat(o.getString("idempotency_key")).startsWith("key-a");
        assertThat(o.getBoolean("raw_truncated")).isFalse();
        dead.add(
            new String(Base64.getDecoder().decode(o.getString("raw")), StandardCharsets.UTF_8));
      } else {
        events.add(o.getJsonObject("payload").getString("id"));
      }
    }
    return new Salvaged(events, dead);
  }

  /**
   * A acknowledges events and dead letters and stops without committing them (B claimed the
   * partition first); B, with a fresh buffer, commits its own, whose sequences are A's again. A
   * restarted must not drop its dead letters as committed: it refuses to claim, salvage exports
   * them, and a re-send brings each to the dead-letter table once. Also for a buffer of the earlier
   * release, which did not record its claim of the dead-letter table.
   */
  @ParameterizedTest(name = "earlier release: {0}")
  @ValueSource(booleans = {false, true})
  void deadLettersAcknowledgedUnderALostClaimAreSalvagedNotDroppedAndResentOnce(
      boolean earlierRelease) throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      EventsTable.ensure(env.service.catalog(), TableSettings.defaults());
      assertThat(DeadLetterIngestTest.setPolicy(env, "dl", "dead_letter").statusCode())
          .isEqualTo(200);
      Ingest ingest = new Ingest();
      Path dirA = tmp.resolve("a");
      List<String> badOfA = new ArrayList<>();
      List<String> badOfB = new ArrayList<>();
      Node a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      send(a.port(), "a", badOfA);
      send(a.port(), "a2", badOfA);
      try (Node b = Node.start(NodeConfig.load(Settings.of(settings(env, tmp.resolve("b")))))) {
        // A stops: its final flush finds the partition B's, and all it acknowledged stays buffered
        a.close();
        // B's fresh buffer starts where the tables stand: its sequences are A's again
        send(b.port(), "b", badOfB);
        send(b.port(), "b2", badOfB);
        send(b.port(), "b3", badOfB);
        assertThat(ingest.flushUntilCommitted(b.port()).statusCode()).isEqualTo(200);
      }
      assertThat(deadLetterRaws(env)).containsExactlyInAnyOrderElementsOf(badOfB);

      if (earlierRelease) {
        asIfWrittenByTheEarlierRelease(dirA);
      }
      a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      try {
        assertSalvageNeeded(ingest, a);
      } finally {
        a.close();
      }

      Path out = tmp.resolve("salvaged.ndjson");
      Salvaged salvaged = salvage(dirA, out);
      assertThat(salvaged.deadLetters()).as("none of A's dead letters lost").isEqualTo(badOfA);
      assertThat(salvaged.eventIds()).containsExactly("a-0", "a-1", "a-2", "a2-0", "a2-1", "a2-2");

      try (Node again = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))))) {
        assertThat(ingest.get(again.port(), "/health/ready").statusCode())
            .as("claims after the salvage")
            .isEqualTo(200);
        assertThat(again.buffer().bufferedBytes()).isZero();
        assertThat(again.buffer().deadLettersPending()).isFalse();
        assertThat(ingest.flushUntilCommitted(again.port()).statusCode()).isEqualTo(200);
        assertThat(deadLetterRaws(env))
            .as("the dead-letter table took nothing of A's before the re-send")
            .containsExactlyInAnyOrderElementsOf(badOfB);
        SalvageMain.main(
            new String[] {"--resend", out.toString(), "--url", "http://127.0.0.1:" + again.port()});
        assertThat(ingest.flushUntilCommitted(again.port()).statusCode()).isEqualTo(200);
      }
      List<String> all = new ArrayList<>(badOfB);
      all.addAll(badOfA);
      assertThat(deadLetterRaws(env)).containsExactlyInAnyOrderElementsOf(all);
      Map<String, Integer> ids = eventIds(env);
      assertThat(ids).hasSize(15).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    }
  }

  /**
   * A salvaged dead letter is re-sent with the key and time fields its request named (recorded in
   * its content type): once its cause is fixed it becomes an event with that key and event time,
   * not one read with the node's default names.
   */
  @Test
  void aDeadLetterIsResentWithTheFieldNamesItsRequestNamed() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Path dir = tmp.resolve("n");
      long ts = 1_767_323_045_000L; // 2026-01-02T03:04:05Z
      String raw = "{\"order\":\"o-7\",\"ts\":" + ts + "}";
      JsonObject line =
          new JsonObject()
              .put(SalvageExport.KIND, SalvageExport.DEAD_LETTER)
              .put(SalvageExport.STREAM, "dl")
              .put(SalvageExport.BUFFER, "buffer-of-an-earlier-process")
              .put(SalvageExport.SEQUENCE, 3)
              .put(SalvageExport.ERROR_CODE, "column_mismatch")
              .put(
                  SalvageExport.CONTENT_TYPE,
                  "application/x-ndjson; floe-key-field=order; floe-time-field=ts")
              .put(SalvageExport.RAW_TRUNCATED, false)
              .put(
                  SalvageExport.RAW,
                  Base64.getEncoder().encodeToString(raw.getBytes(StandardCharsets.UTF_8)));
      Path file = Files.writeString(tmp.resolve("salvaged.ndjson"), line.encode() + "\n");
      EventsTable.ensure(env.service.catalog(), TableSettings.defaults());
      assertThat(DeadLetterIngestTest.setPolicy(env, "dl", "dead_letter").statusCode())
          .isEqualTo(200);
      try (Node node = Node.start(NodeConfig.load(Settings.of(settings(env, dir))))) {
        SalvageMain.main(
            new String[] {"--resend", file.toString(), "--url", "http://127.0.0.1:" + node.port()});
        assertThat(new Ingest().flushUntilCommitted(node.port()).statusCode()).isEqualTo(200);
      }
      assertThat(deadLetterRaws(env)).isEmpty();
      List<TableEnv.Row> rows = env.rows();
      assertThat(rows).hasSize(1);
      assertThat(rows.get(0).key()).isEqualTo("o-7");
      assertThat(rows.get(0).eventTime().toInstant().toEpochMilli()).isEqualTo(ts);
    }
  }

  /**
   * A dies after committing its events but before committing its dead letters; B claims and commits
   * its own. A restarted has only dead letters to salvage: its events are in the table.
   */
  @Test
  void deadLettersAloneAreSalvagedWhenTheEventsWereCommitted() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      EventsTable.ensure(env.service.catalog(), TableSettings.defaults());
      assertThat(DeadLetterIngestTest.setPolicy(env, "dl", "dead_letter").statusCode())
          .isEqualTo(200);
      Ingest ingest = new Ingest();
      Path dirA = tmp.resolve("a");
      List<String> badOfA = new ArrayList<>();
      List<String> badOfB = new ArrayList<>();
      Map<String, String> envA = new HashMap<>(env.nodeEnv(5, dirA));
      envA.put("FLOE_FLUSH_CLAIM_CHECK_SECONDS", "3600");
      List<String> faulty = List.of("-D" + FaultPoint.PROPERTY + "=dead-letters-after-upload");
      try (NodeProcess a = NodeProcess.start(dirA, tmp.resolve("a.log"), envA, faulty)) {
        send(a.port, "a", badOfA);
        HttpClient.newHttpClient()
            .sendAsync(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port + "/v1/flush"))
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        a.awaitLog("fault point reached: dead-letters-after-upload");
        a.kill();
      }
      try (Node b = Node.start(NodeConfig.load(Settings.of(settings(env, tmp.resolve("b")))))) {
        send(b.port(), "b", badOfB);
        assertThat(ingest.flushUntilCommitted(b.port()).statusCode()).isEqualTo(200);
      }
      assertThat(eventIds(env)).containsOnlyKeys("a-0", "a-1", "a-2", "b-0", "b-1", "b-2");

      Node a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      try {
        assertSalvageNeeded(ingest, a);
      } finally {
        a.close();
      }
      Salvaged salvaged = salvage(dirA, tmp.resolve("salvaged.ndjson"));
      assertThat(salvaged.eventIds()).as("A's events are in the table").isEmpty();
      assertThat(salvaged.deadLetters()).isEqualTo(badOfA);
      try (Node again = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))))) {
        assertThat(ingest.get(again.port(), "/health/ready").statusCode()).isEqualTo(200);
        assertThat(ingest.flushUntilCommitted(again.port()).statusCode()).isEqualTo(200);
      }
      assertThat(deadLetterRaws(env)).containsExactlyInAnyOrderElementsOf(badOfB);
      assertThat(eventIds(env)).hasSize(6).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    }
  }

  /**
   * A buffer of the earlier release, which did not record its claim of the dead-letter table,
   * restarts with dead letters to flush and nobody else has claimed the partition: the claim the
   * table records for it is its own, so it starts, and flushes them once.
   */
  @Test
  void aBufferOfTheEarlierReleaseStartsAndFlushesItsDeadLetters() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      EventsTable.ensure(env.service.catalog(), TableSettings.defaults());
      assertThat(DeadLetterIngestTest.setPolicy(env, "dl", "dead_letter").statusCode())
          .isEqualTo(200);
      Ingest ingest = new Ingest();
      Path dirA = tmp.resolve("a");
      List<String> bad = new ArrayList<>();
      NodeConfig config = NodeConfig.load(Settings.of(settings(env, dirA)));
      try (Node a = Node.start(config)) {
        assertThat(a.buffer().claimEpoch()).isPositive();
      }
      // what the node acknowledged after its last flush, as its buffer writer stores it
      try (RocksBuffer buffer = RocksBuffer.open(config.buffer(), 5)) {
        EventBatch.Builder events = new EventBatch.Builder("dl", 1_000L, 64);
        byte[] payload = "{\"id\":\"a-0\"}".getBytes(StandardCharsets.UTF_8);
        events.add(1_000L, null, payload, 0, payload.length);
        byte[] raw = "{\"id\":\"a-broken\",".getBytes(StandardCharsets.UTF_8);
        DeadLetterBatch dead =
            DeadLetterBatch.of(
                new DeadLetterBatch.Context(
                    "dl", 1_000L, "application/x-ndjson", "", "", "", 0, ""),
                List.of(
                    new DeadLetterBatch.Record(
                        "malformed_json", "cut short", 2, false, raw.length, raw)));
        buffer.append(
            List.of(events.build()),
            List.of(new DeadLetters(dead, "[]".getBytes(StandardCharsets.UTF_8))),
            null);
        bad.add(new String(raw, StandardCharsets.UTF_8));
      }
      asIfWrittenByTheEarlierRelease(dirA);
      try (Node a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))))) {
        assertThat(ingest.get(a.port(), "/health/ready").statusCode()).isEqualTo(200);
        assertThat(a.buffer().deadLettersPending()).isTrue();
        assertThat(ingest.flushUntilCommitted(a.port()).statusCode()).isEqualTo(200);
        assertThat(a.buffer().bufferedBytes()).isZero();
      }
      assertThat(deadLetterRaws(env)).containsExactlyInAnyOrderElementsOf(bad);
      assertThat(eventIds(env)).containsOnlyKeys("a-0");
    }
  }

  /**
   * Two dead letters in the table, of A's partition: one whose cause is then fixed (a {@code qty}
   * that was no number, then written as null) and one still bad (a line cut short).
   */
  private static void twoDeadLettersInTheTable(TableEnv env, Path dirA) throws Exception {
    EventsTable.ensure(env.service.catalog(), TableSettings.defaults());
    assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "reject", null).statusCode())
        .isEqualTo(201);
    assertThat(DeadLetterIngestTest.setPolicy(env, "dl", "dead_letter").statusCode())
        .isEqualTo(200);
    try (Node a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))))) {
      a.refreshColumns();
      String body =
          "{\"id\":\"r-0\",\"qty\":0}\n{\"id\":\"r-1\",\"qty\":\"one\"}\n{\"id\":\"r-2\",\n";
      HttpResponse<String> r =
          DeadLetterIngestTest.post(a.port(), "dl", "application/x-ndjson", body, "key-r");
      assertThat(new JsonObject(r.body()).getInteger("dead_lettered")).as(r.body()).isEqualTo(2);
      assertThat(new Ingest().flushUntilCommitted(a.port()).statusCode()).isEqualTo(200);
    }
    assertThat(eventIds(env)).containsOnlyKeys("r-0");
    // the fix: a qty that is no number is written as null (the payload keeps it)
    assertThat(TypedColumnsTest.addColumn(env, "qty", "long", "qty", "null", null).statusCode())
        .isEqualTo(200);
  }

  private static HttpResponse<String> replayAll(int port) throws Exception {
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + port + "/floe/v1/dead-letter/replay"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  /** The replay outcome rows of the dead-letter table: "code of id". */
  private static List<String> outcomes(TableEnv env) throws Exception {
    List<String> out = new ArrayList<>();
    for (Record d : DeadLetterIngestTest.deadLetterRows(env)) {
      if (d.getField("replay_of") != null) {
        out.add(d.getField("error_code") + " of " + d.getField("replay_of"));
      }
    }
    return out;
  }

  /**
   * After salvage and re-send, replays the partition's dead letters on the salvaged buffer's node,
   * and checks that each record is in the table once: r-1 as one event, r-2 as one dead letter
   * waiting (it failed again).
   */
  private static void resendThenReplayOnce(TableEnv env, Path dirA, Path file) throws Exception {
    Ingest ingest = new Ingest();
    try (Node again = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))))) {
      assertThat(ingest.get(again.port(), "/health/ready").statusCode()).isEqualTo(200);
      again.refreshColumns();
      SalvageMain.main(
          new String[] {"--resend", file.toString(), "--url", "http://127.0.0.1:" + again.port()});
      assertThat(ingest.flushUntilCommitted(again.port()).statusCode()).isEqualTo(200);
      HttpResponse<String> r = replayAll(again.port());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(eventIds(env))
          .as("no event twice")
          .containsOnlyKeys("r-0", "r-1")
          .allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
      JsonArray waiting = DeadLetterReplayTest.list(again, "");
      assertThat(waiting).as("one dead letter waits for the record still bad").hasSize(1);
      assertThat(
              new String(
                  Base64.getDecoder().decode(waiting.getJsonObject(0).getString("raw_base64")),
                  StandardCharsets.UTF_8))
          .isEqualTo("{\"id\":\"r-2\",");
      // repeated: nothing more
      assertThat(replayAll(again.port()).statusCode()).isEqualTo(200);
      assertThat(eventIds(env)).containsOnlyKeys("r-0", "r-1").containsValues(1);
      assertThat(again.buffer().replaysToRecord()).isEmpty();
    }
  }

  /**
   * A replays a fixed dead letter and one still bad after B claimed the partition: the replay's
   * flush finds the claim lost, so neither its events nor its outcome rows are committed, and they
   * are salvaged. The re-send sends neither (the replay was never answered; its dead letters still
   * wait), so that the next replay writes r-1's events once and r-2 stays one dead letter.
   */
  @Test
  void aReplayCutShortByALostClaimIsNotResentAndReplaysOnce() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Path dirA = tmp.resolve("a");
      twoDeadLettersInTheTable(env, dirA);
      Node a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      a.refreshColumns();
      try (Node b = Node.start(NodeConfig.load(Settings.of(settings(env, tmp.resolve("b")))))) {
        HttpResponse<String> r = replayAll(a.port());
        assertThat(r.statusCode()).as("the replay's flush finds B's claim").isNotEqualTo(200);
        a.close();
      }
      assertThat(outcomes(env)).isEmpty();
      Node stopped = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      try {
        assertSalvageNeeded(new Ingest(), stopped);
      } finally {
        stopped.close();
      }
      Path file = tmp.resolve("salvaged.ndjson");
      SalvageMain.main(
          new String[] {
            "--buffer-dir", dirA.toString(), "--partition-id", "5", "--out", file.toString()
          });
      List<String> replayOf = new ArrayList<>();
      for (String line : Files.readAllLines(file)) {
        JsonObject o = new JsonObject(line);
        replayOf.add(o.getString("kind", "event") + " " + o.getString("replay_of"));
      }
      assertThat(replayOf).hasSize(3).doesNotContain("event null", "dead_letter null");
      resendThenReplayOnce(env, dirA, file);
      // r-1 replayed once; r-2 failed again at each of the two replays
      assertThat(outcomes(env)).hasSize(3).filteredOn(o -> o.startsWith("replayed of ")).hasSize(1);
    }
  }

  /**
   * A replays a fixed dead letter and dies after its flush committed the events, before it
   * committed the outcome rows; B claims. The salvaged "replayed" row cannot be re-sent, and its
   * events are in the table: the salvaged buffer's node records it at its next replay, which
   * therefore does not write r-1's events again.
   */
  @Test
  void aReplayWhoseEventsWereCommittedIsRecordedNotReplayedAgain() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Path dirA = tmp.resolve("a");
      twoDeadLettersInTheTable(env, dirA);
      Map<String, String> envA = new HashMap<>(env.nodeEnv(5, dirA));
      envA.put("FLOE_FLUSH_CLAIM_CHECK_SECONDS", "3600");
      List<String> faulty = List.of("-D" + FaultPoint.PROPERTY + "=dead-letters-after-upload");
      try (NodeProcess a = NodeProcess.start(dirA, tmp.resolve("a.log"), envA, faulty)) {
        HttpClient.newHttpClient()
            .sendAsync(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + a.port + "/floe/v1/dead-letter/replay"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{}"))
                    .build(),
                HttpResponse.BodyHandlers.discarding());
        a.awaitLog("fault point reached: dead-letters-after-upload");
        a.kill();
      }
      assertThat(eventIds(env)).as("the replay's events landed").containsOnlyKeys("r-0", "r-1");
      assertThat(outcomes(env)).as("its outcome rows did not").isEmpty();
      try (Node b = Node.start(NodeConfig.load(Settings.of(settings(env, tmp.resolve("b")))))) {
        assertThat(b.buffer().claimEpoch()).isPositive();
      }
      Node stopped = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      try {
        assertSalvageNeeded(new Ingest(), stopped);
      } finally {
        stopped.close();
      }
      Path file = tmp.resolve("salvaged.ndjson");
      SalvageMain.main(
          new String[] {
            "--buffer-dir", dirA.toString(), "--partition-id", "5", "--out", file.toString()
          });
      List<JsonObject> lines = new ArrayList<>();
      for (String line : Files.readAllLines(file)) {
        lines.add(new JsonObject(line));
      }
      assertThat(lines)
          .hasSize(2)
          .allSatisfy(o -> assertThat(o.getString("replay_of")).isNotNull());
      resendThenReplayOnce(env, dirA, file);
      assertThat(outcomes(env)).hasSize(3).filteredOn(o -> o.startsWith("replayed of ")).hasSize(1);
    }
  }
}
