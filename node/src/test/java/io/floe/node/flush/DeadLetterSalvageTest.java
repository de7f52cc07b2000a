package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.SalvageMain;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonObject;
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

  @Test
  void deadLettersAcknowledgedUnderALostClaimAreSalvagedNotDroppedAndResentOnce() throws Exception {
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
        // A stops without committing anything: its final flush finds the partition B's
        a.close();
        // B's fresh buffer starts where the tables stand: its sequences are A's again
        send(b.port(), "b", badOfB);
        send(b.port(), "b2", badOfB);
        send(b.port(), "b3", badOfB);
        assertThat(ingest.flushUntilCommitted(b.port()).statusCode()).isEqualTo(200);
      }
      assertThat(deadLetterRaws(env)).containsExactlyInAnyOrderElementsOf(badOfB);

      a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      try {
        HttpResponse<String> ready = ingest.get(a.port(), "/health/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(new JsonObject(ready.body()).getString("reason")).isEqualTo("salvage_needed");
      } finally {
        a.close();
      }

      Path out = tmp.resolve("salvaged.ndjson");
      SalvageMain.main(
          new String[] {
            "--buffer-dir", dirA.toString(), "--partition-id", "5", "--out", out.toString()
          });
      List<String> salvagedEvents = new ArrayList<>();
      List<String> salvagedDead = new ArrayList<>();
      for (String line : Files.readAllLines(out)) {
        JsonObject o = new JsonObject(line);
        if ("dead_letter".equals(o.getString("kind"))) {
          assertThat(o.getString("stream")).isEqualTo("dl");
          assertThat(o.getString("error_code")).as(line).isNotBlank();
          assertThat(o.getString("content_type")).isEqualTo("application/x-ndjson");
          assertThat(o.getInteger("position")).isIn(2, 4);
          assertThat(o.getString("idempotency_key")).startsWith("key-a");
          assertThat(o.getBoolean("raw_truncated")).isFalse();
          salvagedDead.add(
              new String(Base64.getDecoder().decode(o.getString("raw")), StandardCharsets.UTF_8));
        } else {
          salvagedEvents.add(o.getJsonObject("payload").getString("id"));
        }
      }
      assertThat(salvagedDead).as("none of A's dead letters lost").isEqualTo(badOfA);
      assertThat(salvagedEvents).containsExactly("a-0", "a-1", "a-2", "a2-0", "a2-1", "a2-2");

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
}
