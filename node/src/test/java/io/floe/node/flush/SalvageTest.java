package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.SalvageMain;
import io.floe.node.config.NodeConfig;
import io.floe.node.process.NodeProcess;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node that acknowledged events after another process claimed its partition must not drop them at
 * its next start: it refuses to claim until they are salvaged, and nothing acknowledged is lost.
 * Salvage exports each event with its stream, key and event time, and exactly the events the table
 * does not hold, also once the snapshots of the old claim have expired.
 */
class SalvageTest {
  @TempDir Path tmp;

  private final HttpClient http = HttpClient.newHttpClient();

  /** What an event was sent as: its stream, key and event time, and its payload. */
  private record Sent(String stream, String key, Instant eventTime, String payload) {}

  private static Map<String, String> settings(TableEnv env, Path dir) {
    Map<String, String> s = env.nodeSettings(9);
    s.put("buffer.dir", dir.toString());
    s.put(
        "flush.claim-check-seconds", "3600"); // A learns of B's claim only when it tries to commit
    return s;
  }

  /**
   * Sends {@code count} "clicks" keyed and timed by fields named in the request ({@code user},
   * {@code ts}) and {@code count} "orders" keyed and timed by the default fields ({@code key},
   * {@code event_time} in epoch milliseconds); returns them by id.
   */
  private Map<String, Sent> sendClicksAndOrders(int port, String tag, int count) throws Exception {
    Map<String, Sent> sent = new LinkedHashMap<>();
    StringBuilder clicks = new StringBuilder();
    StringBuilder orders = new StringBuilder();
    for (int i = 0; i < count; i++) {
      String clickId = tag + "-click-" + i;
      Instant clickTime = Instant.parse("2026-12-01T10:00:00.123456Z").plusSeconds(i);
      String click =
          "{\"id\":\""
              + clickId
              + "\",\"user\":\"u"
              + i % 3
              + "\",\"ts\":\""
              + clickTime
              + "\",\"page\":\"/p/"
              + i
              + "\"}";
      clicks.append(click).append('\n');
      sent.put(clickId, new Sent("clicks", "u" + i % 3, clickTime, click));
      String orderId = tag + "-order-" + i;
      Instant orderTime = Instant.ofEpochMilli(1_764_000_000_000L + i * 1000L);
      String order =
          "{\"id\":\""
              + orderId
              + "\",\"key\":\"o"
              + i
              + "\",\"event_time\":"
              + orderTime.toEpochMilli()
              + ",\"amount\":"
              + i
              + ".5}";
      orders.append(order).append('\n');
      sent.put(orderId, new Sent("orders", "o" + i, orderTime, order));
    }
    assertThat(post(port, "clicks", "?key_field=user&time_field=ts", clicks).statusCode())
        .isEqualTo(200);
    assertThat(post(port, "orders", "", orders).statusCode()).isEqualTo(200);
    return sent;
  }

  private HttpResponse<String> post(int port, String stream, String query, CharSequence body)
      throws Exception {
    return http.send(
        HttpRequest.newBuilder(
                URI.create(
                    "http://127.0.0.1:" + port + "/v1/streams/" + stream + "/events" + query))
            .header("Content-Type", "application/x-ndjson")
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** The salvaged events of a salvage file, by id, as the file describes them. */
  private static Map<String, Sent> salvaged(Path file) throws Exception {
    Map<String, Sent> out = new LinkedHashMap<>();
    for (String line : Files.readAllLines(file)) {
      JsonObject o = new JsonObject(line);
      JsonObject payload = o.getJsonObject("payload");
      assertThat(payload).as("payload of %s", line).isNotNull();
      Sent previous =
          out.put(
              payload.getString("id"),
              new Sent(
                  o.getString("stream"),
                  o.getString("key"),
                  Instant.parse(o.getString("event_time")),
                  payload.encode()));
      assertThat(previous).as("salvaged twice: %s", line).isNull();
    }
    return out;
  }

  private static Map<String, Integer> idsInTable(TableEnv env) throws Exception {
    Map<String, Integer> ids = new HashMap<>();
    for (TableEnv.Row row : env.rows()) {
      ids.merge(new JsonObject(row.payload()).getString("id"), 1, Integer::sum);
    }
    return ids;
  }

  private static void assertReadySaysSalvageNeeded(Ingest ingest, Node a) throws Exception {
    HttpResponse<String> ready = ingest.get(a.port(), "/health/ready");
    assertThat(ready.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(ready.body()).getString("reason")).isEqualTo("salvage_needed");
  }

  @Test
  void eventsAcknowledgedUnderALostClaimAreSalvagedWithTheirStreamKeyAndTimeAndResent()
      throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Path dirA = tmp.resolve("a");
      Ingest ingest = new Ingest();
      Node a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      assertThat(ingest.send(a.port(), "s", "a1", 20).statusCode()).isEqualTo(200);
      assertThat(ingest.post(a.port(), "/v1/flush").statusCode()).isEqualTo(200);

      Map<String, Sent> late;
      try (Node b = Node.start(NodeConfig.load(Settings.of(settings(env, tmp.resolve("b")))))) {
        assertThat(ingest.send(b.port(), "s", "b1", 10).statusCode()).isEqualTo(200);
        assertThat(ingest.post(b.port(), "/v1/flush").statusCode()).isEqualTo(200);
        // A does not know yet and acknowledges more, of two streams, into its own buffer
        late = sendClicksAndOrders(a.port(), "a2", 8);
        a.close();
      }

      a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      try {
        assertReadySaysSalvageNeeded(ingest, a);
        assertThat(ingest.send(a.port(), "s", "refused", 1).statusCode()).isEqualTo(503);
      } finally {
        a.close();
      }

      Path out = tmp.resolve("salvaged.ndjson");
      SalvageMain.main(
          new String[] {
            "--buffer-dir", dirA.toString(), "--partition-id", "9", "--out", out.toString()
          });
      assertThat(salvaged(out)).containsExactlyInAnyOrderEntriesOf(late);

      try (Node again = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))))) {
        assertThat(ingest.get(again.port(), "/health/ready").statusCode())
            .as("claims after the salvage")
            .isEqualTo(200);
        SalvageMain.main(
            new String[] {"--resend", out.toString(), "--url", "http://127.0.0.1:" + again.port()});
        assertThat(ingest.post(again.port(), "/v1/flush").statusCode()).isEqualTo(200);
      }
      Map<String, Integer> ids = idsInTable(env);
      assertThat(ids).hasSize(46).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
      assertThat(ids).containsKeys("a1-0", "a1-19", "b1-0", "b1-9");
      Map<String, Sent> resent = new HashMap<>();
      for (TableEnv.Row row : env.rows()) {
        String id = new JsonObject(row.payload()).getString("id");
        if (late.containsKey(id)) {
          resent.put(
              id, new Sent(row.stream(), row.key(), row.eventTime().toInstant(), row.payload()));
        }
      }
      assertThat(resent).as("each re-sent to its stream, key and time kept").isEqualTo(late);
    }
  }

  /**
   * A commits under its claim and dies before dropping the committed range from its buffer; B
   * claims; the snapshots that recorded A's commits expire; A restarts. Salvage must export only
   * what A acknowledged and never committed: what it committed is in the table already.
   */
  @Test
  void afterTheOldClaimsSnapshotsExpireSalvageExportsNothingTheTableHolds() throws Exception {
    try (TableEnv env = TableEnv.start(tmp)) {
      Path dirA = tmp.resolve("a");
      Ingest ingest = new Ingest();
      Map<String, String> envA = new HashMap<>(env.nodeEnv(9, dirA));
      envA.put("FLOE_FLUSH_CLAIM_CHECK_SECONDS", "3600");
      List<String> faulty = List.of("-D" + FaultPoint.PROPERTY + "=after-commit");
      Map<String, Sent> late;
      try (NodeProcess a = NodeProcess.start(dirA, tmp.resolve("a.log"), envA, faulty)) {
        for (int b = 0; b < 3; b++) {
          assertThat(ingest.send(a.port, "s", "committed-" + b, 20).statusCode()).isEqualTo(200);
        }
        http.sendAsync(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.port + "/v1/flush"))
                .POST(HttpRequest.BodyPublishers.noBody())
                .build(),
            HttpResponse.BodyHandlers.discarding());
        a.awaitLog("fault point reached: after-commit");
        // committed, not yet dropped; A acknowledges more before it dies
        late = sendClicksAndOrders(a.port, "late", 5);
        a.kill();
      }
      try (Node b = Node.start(NodeConfig.load(Settings.of(settings(env, tmp.resolve("b")))))) {
        assertThat(ingest.send(b.port(), "s", "b1", 10).statusCode()).isEqualTo(200);
        assertThat(ingest.post(b.port(), "/v1/flush").statusCode()).isEqualTo(200);
      }
      Thread.sleep(1100);
      Table table = env.adminTable();
      table.expireSnapshots().expireOlderThan(System.currentTimeMillis()).retainLast(1).commit();
      assertThat(env.table().snapshots()).as("only B's last commit is left").hasSize(1);

      Node a = Node.start(NodeConfig.load(Settings.of(settings(env, dirA))));
      try {
        assertReadySaysSalvageNeeded(ingest, a);
      } finally {
        a.close();
      }
      Path out = tmp.resolve("salvaged.ndjson");
      SalvageMain.main(
          new String[] {
            "--buffer-dir", dirA.toString(), "--partition-id", "9", "--out", out.toString()
          });
      Map<String, Integer> inTable = idsInTable(env);
      assertThat(inTable).hasSize(70).containsKeys("committed-0-0", "committed-2-19", "b1-9");
      Map<String, Sent> salvaged = salvaged(out);
      assertThat(salvaged.keySet())
          .as("nothing the table holds")
          .doesNotContainAnyElementsOf(inTable.keySet());
      assertThat(salvaged).containsExactlyInAnyOrderEntriesOf(late);
    }
  }
}
