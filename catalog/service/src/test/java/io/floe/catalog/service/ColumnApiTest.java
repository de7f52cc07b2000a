package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.floe.catalog.columns.ColumnMapping;
import io.floe.catalog.columns.ColumnMappings;
import io.floe.catalog.local.FloeCli;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.auth.TokenStore;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The column API of the catalog service and the {@code scripts/floe columns} CLI over it: what is
 * refused (and why), who may do what, and what a change does to the table's schema and properties.
 */
class ColumnApiTest {
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();
  private CatalogService service;
  private String uri;

  @BeforeEach
  void start() throws Exception {
    Path tokens =
        Files.write(
            tmp.resolve("tokens"),
            List.of(
                TokenStore.line("spark", "catalog:read", "t-read"),
                TokenStore.line("producer", "ingest", "t-ingest"),
                TokenStore.line("oncall", "read,admin", "t-admin")));
    service =
        LocalCatalog.start(
            tmp.resolve("catalog.db"),
            Map.of(
                "warehouse",
                tmp.resolve("wh").toUri().toString(),
                "io-impl",
                "org.apache.iceberg.hadoop.HadoopFileIO"),
            Map.of("FLOE_AUTH_TOKENS_FILE", tokens.toString()));
    uri = "http://127.0.0.1:" + service.port();
  }

  @AfterEach
  void stop() throws Exception {
    service.close();
  }

  private Table table() {
    return service.catalog().loadTable(EventsTable.identifier(TableSettings.defaults()));
  }

  private HttpResponse<String> send(String method, String path, String token, String body)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(uri + "/floe/v1/columns" + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void beforeTheTableExistsTheApiSaysSo() throws Exception {
    HttpResponse<String> r = send("GET", "", "t-admin", null);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(r.body()).getString("detail")).contains("does not exist yet");
  }

  @Test
  void badRequestsAreRefusedWithAReasonAndChangeNothing() throws Exception {
    EventsTable.ensure(service.catalog(), TableSettings.defaults());
    int schemaBefore = table().schema().schemaId();
    Map<String, String> refusals =
        Map.of(
            "{\"name\":\"Amount\",\"type\":\"long\",\"path\":\"a\"}",
                "column name 'Amount' is invalid",
            "{\"name\":\"payload\",\"type\":\"long\",\"path\":\"a\"}", "one of Floe's own columns",
            "{\"name\":\"a\",\"type\":\"map<string,long>\",\"path\":\"a\"}",
                "is not a column type Floe fills",
            "{\"name\":\"a\",\"type\":\"decimal(40,2)\",\"path\":\"a\"}", "precision <= 38",
            "{\"name\":\"a\",\"type\":\"long\",\"path\":\"a..b\"}", "path 'a..b' is invalid",
            "{\"name\":\"a\",\"type\":\"long\"}", "needs a JSON path",
            "{\"name\":\"a\",\"type\":\"long\",\"path\":\"a\",\"on-mismatch\":\"null\"}",
                "unknown field 'on-mismatch'",
            "{\"name\":\"a\",\"type\":\"long\",\"path\":\"a\",\"on_mismatch\":\"drop\"}",
                "is not reject or null",
            "{\"name\":\"a\",\"type\":\"long\",\"path\":\"a\",\"streams\":[\"Bad Stream\"]}",
                "stream name 'Bad Stream' is invalid",
            "not json", "must be a JSON object");
    for (var e : refusals.entrySet()) {
      HttpResponse<String> r = send("POST", "", "t-admin", e.getKey());
      assertThat(r.statusCode()).as(e.getKey()).isEqualTo(400);
      assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("invalid_column");
      assertThat(new JsonObject(r.body()).getString("detail"))
          .as(e.getKey())
          .contains(e.getValue());
    }
    assertThat(send("DELETE", "/nothing", "t-admin", null).statusCode()).isEqualTo(404);
    assertThat(table().schema().schemaId()).isEqualTo(schemaBefore);
    assertThat(table().properties().keySet())
        .noneMatch(k -> k.startsWith(FloeTableKeys.COLUMN_PREFIX));
  }

  @Test
  void onlyAnAdminChangesColumnsAndReadersList() throws Exception {
    EventsTable.ensure(service.catalog(), TableSettings.defaults());
    String add = "{\"name\":\"amount\",\"type\":\"decimal(10,2)\",\"path\":\"order.amount\"}";
    assertThat(send("POST", "", null, add).statusCode()).isEqualTo(401);
    assertThat(send("POST", "", "wrong", add).statusCode()).isEqualTo(401);
    HttpResponse<String> reader = send("POST", "", "t-read", add);
    assertThat(reader.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(reader.body()).getString("detail")).contains("needs admin");
    assertThat(send("GET", "", "t-ingest", null).statusCode()).isEqualTo(403);
    assertThat(table().schema().findField("amount")).isNull();

    Logger audit = (Logger) LoggerFactory.getLogger("floe.audit");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    audit.addAppender(lines);
    try {
      assertThat(send("POST", "", "t-admin", add).statusCode()).isEqualTo(201);
      assertThat(send("POST", "", "t-admin", add).statusCode())
          .as("the same again changes nothing")
          .isEqualTo(200);
      assertThat(send("DELETE", "/amount", "t-read", null).statusCode()).isEqualTo(403);
      assertThat(send("DELETE", "/amount", "t-admin", null).statusCode()).isEqualTo(200);
    } finally {
      audit.detachAppender(lines);
    }
    assertThat(lines.list)
        .extracting(ILoggingEvent::getFormattedMessage)
        .anyMatch(
            l ->
                l.contains(
                    "principal=oncall action=add-column target=amount type=decimal(10,2) path=order.amount"))
        .anyMatch(l -> l.contains("principal=oncall action=drop-column target=amount"))
        .noneMatch(l -> l.contains("update-column"));
    JsonObject listed = new JsonObject(send("GET", "?all=true", "t-read", null).body());
    assertThat(listed.getJsonArray("columns")).hasSize(1);
    assertThat(listed.getJsonArray("columns").getJsonObject(0).getBoolean("dropped")).isTrue();
    assertThat(new JsonObject(send("GET", "", "t-read", null).body()).getJsonArray("columns"))
        .isEmpty();
  }

  @Test
  void theCliAddsWidensListsAndDropsAndTheTableFollows() throws Exception {
    EventsTable.ensure(service.catalog(), TableSettings.defaults());
    Cli cli = new Cli();
    assertThat(
            cli.run(
                "columns",
                "add",
                "amount",
                "decimal(10,2)",
                "--path",
                "order.amount",
                "--streams",
                "orders,refunds",
                "--on-mismatch",
                "reject"))
        .isEqualTo(0);
    assertThat(cli.out())
        .contains(
            "created: amount decimal(10,2) from order.amount for orders,refunds, on mismatch reject");
    assertThat(cli.run("columns", "add", "qty", "int", "--path", "qty")).isEqualTo(0);
    assertThat(cli.run("columns", "add", "qty", "long", "--path", "qty")).isEqualTo(0);
    assertThat(cli.out()).contains("updated: qty long");
    assertThat(cli.run("columns", "add", "qty", "string", "--path", "qty")).isEqualTo(1);
    assertThat(cli.err()).contains("409").contains("column 'qty' exists as long");
    assertThat(
            cli.run(
                "columns",
                "add",
                "amount",
                "decimal(12,2)",
                "--path",
                "order.amount",
                "--streams",
                "orders,refunds",
                "--on-mismatch",
                "reject"))
        .isEqualTo(0);

    Table t = table();
    assertThat(t.schema().findField("amount").type()).isEqualTo(Types.DecimalType.of(12, 2));
    assertThat(t.schema().findField("qty").type()).isEqualTo(Types.LongType.get());
    assertThat(t.schema().findField("qty").isOptional()).isTrue();
    ColumnMapping amount = ColumnMappings.read(t).named("amount");
    assertThat(amount.path()).containsExactly("order", "amount");
    assertThat(amount.streams()).containsExactly("orders", "refunds");
    assertThat(amount.onMismatch()).isEqualTo(ColumnMapping.OnMismatch.REJECT);

    assertThat(cli.run("columns", "list")).isEqualTo(0);
    assertThat(cli.out())
        .contains("NAME")
        .contains("amount  decimal(12,2)  order.amount  orders,refunds  reject")
        .contains("qty     long           qty           *               null");
    assertThat(cli.run("columns", "drop", "qty")).isEqualTo(0);
    assertThat(cli.run("--json", "columns", "list")).isEqualTo(0);
    assertThat(new JsonObject(cli.out()).getJsonArray("columns")).hasSize(1);
    assertThat(table().schema().findField("qty"))
        .as("a dropped column keeps its values")
        .isNotNull();
    assertThat(cli.run("columns", "add", "x", "long")).isEqualTo(2);
    assertThat(cli.err()).contains("needs --path");
    Cli reader = new Cli("t-read");
    assertThat(reader.run("columns", "drop", "amount")).isEqualTo(1);
    assertThat(reader.err()).contains("403");
  }

  /** scripts/floe in process, against this service. */
  private final class Cli {
    private final String token;
    private ByteArrayOutputStream out;
    private ByteArrayOutputStream err;

    Cli() {
      this("t-admin");
    }

    Cli(String token) {
      this.token = token;
    }

    int run(String... args) {
      out = new ByteArrayOutputStream();
      err = new ByteArrayOutputStream();
      String[] all = new String[args.length + 4];
      all[0] = "--catalog";
      all[1] = uri;
      all[2] = "--token";
      all[3] = token;
      System.arraycopy(args, 0, all, 4, args.length);
      return new FloeCli(
              new PrintStream(out, true, StandardCharsets.UTF_8),
              new PrintStream(err, true, StandardCharsets.UTF_8))
          .run(all);
    }

    String out() {
      return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
      return err.toString(StandardCharsets.UTF_8);
    }
  }
}
