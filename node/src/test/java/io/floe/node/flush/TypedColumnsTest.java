package io.floe.node.flush;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.common.config.Settings;
import io.floe.node.Node;
import io.floe.node.config.NodeConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.msgpack.core.MessageBufferPacker;
import org.msgpack.core.MessagePack;

/**
 * Typed columns end to end on one node: mappings declared through the catalog service's column API,
 * events in each input format, rows read back from the table with their typed values.
 */
class TypedColumnsTest {
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir Path tmp;

  @Test
  void everyTypeIsFilledFromNdjsonJsonAndMessagePack() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env)) {
      Map<String, String> columns = new LinkedHashMap<>();
      columns.put("user_id", "long:user.id");
      columns.put("amount", "decimal(10,2):order.amount");
      columns.put("tags", "list<string>:tags");
      columns.put("scores", "list<long>:scores");
      columns.put("seen_at", "timestamptz:seen_at");
      columns.put("local_at", "timestamp:local_at");
      columns.put("day", "date:day");
      columns.put("ok", "boolean:flags.ok");
      columns.put("ratio", "double:ratio");
      columns.put("uid", "uuid:uid");
      columns.put("qty", "int:qty");
      columns.put("label", "string:label");
      columns.put("seen_days", "list<date>:seen_days");
      for (var c : columns.entrySet()) {
        String[] typePath = c.getValue().split(":");
        assertThat(addColumn(env, c.getKey(), typePath[0], typePath[1], null, null).statusCode())
            .isEqualTo(201);
      }
      node.refreshColumns();
      String event =
          "{\"user\":{\"id\":%d,\"name\":\"a\\\"b\"},\"order\":{\"amount\":\"12.5\"},\"tags\":[\"x\",\"y\\n\"],"
              + "\"scores\":[1,null,3],\"seen_at\":\"2026-12-03T10:15:30.123456+01:00\",\"local_at\":\"2026-12-03 10:15:30\","
              + "\"day\":\"2026-12-03\",\"flags\":{\"ok\":true},\"ratio\":0.25,\"uid\":\"123e4567-e89b-12d3-a456-426614174000\","
              + "\"qty\":7,\"label\":42,\"seen_days\":[\"2026-12-03\",\"1969-12-31\"]}";
      assertThat(
              post(
                      node.port(),
                      "events",
                      "application/x-ndjson",
                      (String.format(event, 1) + "\n").getBytes())
                  .statusCode())
          .isEqualTo(200);
      assertThat(
              post(node.port(), "events", "application/json", String.format(event, 2).getBytes())
                  .statusCode())
          .isEqualTo(200);
      assertThat(post(node.port(), "events", "application/msgpack", msgpack(3)).statusCode())
          .isEqualTo(200);
      node.flusher().flushNow().get();

      Map<Long, Record> byUser = new HashMap<>();
      for (Record r : records(env.table())) {
        byUser.put((Long) r.getField("user_id"), r);
      }
      assertThat(byUser).containsOnlyKeys(1L, 2L, 3L);
      for (long user : List.of(1L, 2L)) {
        Record r = byUser.get(user);
        assertThat(r.getField("amount")).isEqualTo(new BigDecimal("12.50"));
        assertThat(r.getField("tags")).isEqualTo(List.of("x", "y\n"));
        assertThat(r.getField("scores")).isEqualTo(Arrays.asList(1L, null, 3L));
        assertThat(((OffsetDateTime) r.getField("seen_at")).toInstant())
            .isEqualTo(OffsetDateTime.parse("2026-12-03T10:15:30.123456+01:00").toInstant());
        assertThat(r.getField("local_at")).isEqualTo(LocalDateTime.parse("2026-12-03T10:15:30"));
        assertThat(r.getField("day")).isEqualTo(LocalDate.parse("2026-12-03"));
        assertThat(r.getField("ok")).isEqualTo(true);
        assertThat(r.getField("ratio")).isEqualTo(0.25);
        assertThat(r.getField("uid"))
            .isEqualTo(UUID.fromString("123e4567-e89b-12d3-a456-426614174000"));
        assertThat(r.getField("qty")).isEqualTo(7);
        assertThat(r.getField("label")).isEqualTo("42");
        assertThat(r.getField("seen_days"))
            .isEqualTo(List.of(LocalDate.parse("2026-12-03"), LocalDate.parse("1969-12-31")));
      }
      Record m = byUser.get(3L);
      assertThat(m.getField("amount")).isEqualTo(new BigDecimal("99.99"));
      assertThat(m.getField("tags")).isEqualTo(List.of("m"));
      assertThat(((OffsetDateTime) m.getField("seen_at")).toInstant())
          .isEqualTo(OffsetDateTime.of(2026, 12, 3, 0, 0, 0, 0, ZoneOffset.UTC).toInstant());
      assertThat(m.getField("ok")).isEqualTo(false);
      assertThat(m.getField("ratio")).isEqualTo(1.5);
      assertThat(m.getField("label")).isEqualTo("text");
      assertThat(m.getField("day")).isNull();
      assertThat(env.table().schema().findField("amount").type())
          .isEqualTo(Types.DecimalType.of(10, 2));
    }
  }

  @Test
  void aRejectMismatchIsRefusedWithTheLineAndFieldAndNothingIsWritten() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env)) {
      assertThat(
              addColumn(env, "amount", "decimal(10,2)", "order.amount", "reject", List.of("orders"))
                  .statusCode())
          .isEqualTo(201);
      node.refreshColumns();
      String body =
          "{\"order\":{\"amount\":1.5}}\n\n{\"order\":{\"amount\":2}}\n{\"order\":{\"amount\":\"abc\"}}\n";
      HttpResponse<String> refused =
          post(node.port(), "orders", "application/x-ndjson", body.getBytes());
      assertThat(refused.statusCode()).isEqualTo(400);
      JsonObject error = new JsonObject(refused.body());
      assertThat(error.getString("error")).isEqualTo("column_mismatch");
      assertThat(error.getString("detail"))
          .contains("line 4")
          .contains("'order.amount'")
          .contains("amount")
          .contains("decimal(10,2)")
          .contains("\"abc\"");
      HttpResponse<String> tooPrecise =
          post(
              node.port(),
              "orders",
              "application/json",
              "[{\"order\":{\"amount\":1}},{\"order\":{\"amount\":1.234}}]".getBytes());
      assertThat(tooPrecise.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(tooPrecise.body()).getString("detail"))
          .contains("element 2")
          .contains("2 decimal places");
      MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
      p.packMapHeader(1)
          .packString("order")
          .packMapHeader(1)
          .packString("amount")
          .packBoolean(true);
      HttpResponse<String> msgpack =
          post(node.port(), "orders", "application/msgpack", p.toByteArray());
      assertThat(msgpack.statusCode()).isEqualTo(400);
      assertThat(new JsonObject(msgpack.body()).getString("error")).isEqualTo("column_mismatch");
      assertThat(node.buffer().highWaterMark()).as("nothing written").isEqualTo(0);
      // the mapping is limited to "orders": other streams are not checked, and a missing field is
      // no mismatch
      assertThat(
              post(
                      node.port(),
                      "other",
                      "application/x-ndjson",
                      "{\"order\":{\"amount\":\"abc\"}}\n".getBytes())
                  .statusCode())
          .isEqualTo(200);
      assertThat(
              post(
                      node.port(),
                      "orders",
                      "application/x-ndjson",
                      "{\"order\":{}}\n{\"order\":{\"amount\":null}}\n".getBytes())
                  .statusCode())
          .isEqualTo(200);
      node.flusher().flushNow().get();
      assertThat(records(env.table()))
          .hasSize(3)
          .allSatisfy(r -> assertThat(r.getField("amount")).isNull());
    }
  }

  @Test
  void aNullMismatchKeepsThePayloadAndIsCounted() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env)) {
      addColumn(env, "qty", "int", "qty", null, null);
      node.refreshColumns();
      String body = "{\"qty\":1}\n{\"qty\":\"seven\"}\n{\"qty\":3000000000}\n{\"qty\":2.0}\n";
      assertThat(post(node.port(), "s", "application/x-ndjson", body.getBytes()).statusCode())
          .isEqualTo(200);
      node.flusher().flushNow().get();
      Map<String, Object> byPayload = new HashMap<>();
      for (Record r : records(env.table())) {
        byPayload.put((String) r.getField("payload"), r.getField("qty"));
      }
      assertThat(byPayload)
          .containsEntry("{\"qty\":1}", 1)
          .containsEntry("{\"qty\":\"seven\"}", null)
          .containsEntry("{\"qty\":3000000000}", null)
          .containsEntry("{\"qty\":2.0}", 2);
      String metrics =
          HTTP.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.port() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString())
              .body();
      assertThat(metrics)
          .contains("floe_column_mismatches_total{column=\"qty\"} 2.0")
          .contains("floe_columns_active 1.0");
    }
  }

  @Test
  void eventsAcknowledgedBeforeAMappingGetTheColumnAtFlushAndAWidenedColumnKeepsItsValues()
      throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env)) {
      assertThat(
              post(node.port(), "s", "application/x-ndjson", "{\"n\":1}\n{\"n\":2}\n".getBytes())
                  .statusCode())
          .isEqualTo(200);
      node.flusher().flushNow().get(); // committed before the mapping: stays null
      assertThat(
              post(node.port(), "s", "application/x-ndjson", "{\"n\":3}\n".getBytes()).statusCode())
          .isEqualTo(200);
      assertThat(addColumn(env, "n", "int", "n", "reject", null).statusCode()).isEqualTo(201);
      // a mapping takes effect on its own within columns.refresh-seconds (1 s here): a wrong value
      // is refused
      long deadline = System.nanoTime() + 10_000_000_000L;
      int status = 200;
      int acceptedBeforeTheNodeFollowed = -1;
      while (status == 200 && System.nanoTime() < deadline) {
        status =
            post(node.port(), "s", "application/x-ndjson", "{\"n\":\"x\"}\n".getBytes())
                .statusCode();
        acceptedBeforeTheNodeFollowed++;
        Thread.sleep(100);
      }
      assertThat(status).as("the node follows the new mapping without a restart").isEqualTo(400);
      node.flusher().flushNow().get();
      // widening: int -> long, then a value only a long holds
      HttpResponse<String> widened = addColumn(env, "n", "long", "n", "reject", null);
      assertThat(widened.statusCode()).isEqualTo(200);
      assertThat(new JsonObject(widened.body()).getString("outcome")).isEqualTo("updated");
      assertThat(new JsonObject(widened.body()).getJsonObject("column").getString("type"))
          .isEqualTo("long");
      node.refreshColumns();
      assertThat(
              post(node.port(), "s", "application/x-ndjson", "{\"n\":5000000000}\n".getBytes())
                  .statusCode())
          .isEqualTo(200);
      node.flusher().flushNow().get();
      Map<String, Object> byPayload = new HashMap<>();
      for (Record r : records(env.table())) {
        byPayload.put((String) r.getField("payload"), r.getField("n"));
      }
      assertThat(byPayload)
          .containsEntry("{\"n\":1}", null)
          .containsEntry("{\"n\":2}", null)
          .containsEntry("{\"n\":3}", 3L)
          .containsEntry("{\"n\":5000000000}", 5000000000L);
      assertThat(
              records(env.table()).stream()
                  .filter(r -> "{\"n\":\"x\"}".equals(r.getField("payload")))
                  .toList())
          .as(
              "mismatches accepted before the node followed the mapping are null, not refused after the fact")
          .hasSize(acceptedBeforeTheNodeFollowed)
          .allSatisfy(r -> assertThat(r.getField("n")).isNull());

      // dropped: new rows stay null, old values stay; the name cannot come back for another path
      assertThat(delete(env, "n").statusCode()).isEqualTo(200);
      node.refreshColumns();
      assertThat(
              post(node.port(), "s", "application/x-ndjson", "{\"n\":6}\n".getBytes()).statusCode())
          .isEqualTo(200);
      node.flusher().flushNow().get();
      assertThat(
              records(env.table()).stream()
                  .filter(r -> "{\"n\":6}".equals(r.getField("payload")))
                  .findFirst()
                  .orElseThrow()
                  .getField("n"))
          .isNull();
      HttpResponse<String> reuse = addColumn(env, "n", "long", "other.n", null, null);
      assertThat(reuse.statusCode()).isEqualTo(409);
      assertThat(new JsonObject(reuse.body()).getString("detail"))
          .contains("filled from n (dropped)");
    }
  }

  @Test
  void suggestProposesTypesAndFillRatesFromRecentEvents() throws Exception {
    try (TableEnv env = TableEnv.start(tmp);
        Node node = node(env)) {
      StringBuilder body = new StringBuilder();
      for (int i = 0; i < 10; i++) {
        body.append("{\"user\":{\"id\":")
            .append(i)
            .append("},\"amount\":\"")
            .append(i)
            .append(".25\",\"at\":\"2026-12-03T10:00:0")
            .append(i)
            .append("Z\"")
            .append(i % 2 == 0 ? ",\"note\":\"hi\"" : "")
            .append(",\"tags\":[\"a\"]}\n");
      }
      assertThat(
              post(node.port(), "clicks", "application/x-ndjson", body.toString().getBytes())
                  .statusCode())
          .isEqualTo(200);
      node.flusher().flushNow().get();
      HttpResponse<String> r =
          HTTP.send(
              HttpRequest.newBuilder(
                      URI.create(env.catalogUri() + "/floe/v1/columns/suggest?stream=clicks"))
                  .header("Authorization", "Bearer " + TableEnv.OPERATOR_TOKEN)
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      JsonObject answer = new JsonObject(r.body());
      assertThat(answer.getInteger("sampled_events")).isEqualTo(10);
      Map<String, JsonObject> byPath = new HashMap<>();
      answer
          .getJsonArray("suggestions")
          .forEach(o -> byPath.put(((JsonObject) o).getString("path"), (JsonObject) o));
      assertThat(byPath.get("user.id").getString("type")).isEqualTo("long");
      assertThat(byPath.get("user.id").getString("column")).isEqualTo("user_id");
      assertThat(byPath.get("amount").getString("type")).isEqualTo("decimal(5,2)");
      assertThat(byPath.get("at").getString("type")).isEqualTo("timestamptz");
      assertThat(byPath.get("tags").getString("type")).isEqualTo("list<string>");
      assertThat(byPath.get("note").getDouble("fill_rate")).isEqualTo(0.5);
      assertThat(byPath.get("user.id").getDouble("fill_rate")).isEqualTo(1.0);
    }
  }

  private Node node(TableEnv env) throws Exception {
    Map<String, String> s = env.nodeSettings(0);
    s.put("columns.refresh-seconds", "1");
    return Node.start(NodeConfig.load(Settings.of(s)));
  }

  private static List<Record> records(Table table) throws Exception {
    List<Record> out = new ArrayList<>();
    try (CloseableIterable<Record> rows = IcebergGenerics.read(table).build()) {
      rows.forEach(r -> out.add(r.copy()));
    }
    return out;
  }

  private static byte[] msgpack(int user) throws Exception {
    MessageBufferPacker p = MessagePack.newDefaultBufferPacker();
    p.packMapHeader(8);
    p.packString("user").packMapHeader(1).packString("id").packInt(user);
    p.packString("order").packMapHeader(1).packString("amount").packDouble(99.99);
    p.packString("tags").packArrayHeader(1).packString("m");
    p.packString("seen_at").packLong(1796256000000L);
    p.packString("flags").packMapHeader(1).packString("ok").packBoolean(false);
    p.packString("ratio").packDouble(1.5);
    p.packString("label").packString("text");
    p.packString("day").packNil();
    return p.toByteArray();
  }

  static HttpResponse<String> addColumn(
      TableEnv env, String name, String type, String path, String onMismatch, List<String> streams)
      throws Exception {
    JsonObject body = new JsonObject().put("name", name).put("type", type).put("path", path);
    if (onMismatch != null) {
      body.put("on_mismatch", onMismatch);
    }
    if (streams != null) {
      body.put("streams", new JsonArray(streams));
    }
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(env.catalogUri() + "/floe/v1/columns"))
            .header("Authorization", "Bearer " + TableEnv.OPERATOR_TOKEN)
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> delete(TableEnv env, String name) throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(URI.create(env.catalogUri() + "/floe/v1/columns/" + name))
            .header("Authorization", "Bearer " + TableEnv.OPERATOR_TOKEN)
            .DELETE()
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(int port, String stream, String type, byte[] body)
      throws Exception {
    return HTTP.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/v1/streams/" + stream + "/events"))
            .header("Content-Type", type)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
