package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.local.FloeCli;
import io.floe.catalog.streams.OnError;
import io.floe.catalog.streams.StreamPolicies;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stream-policy API of the catalog service and {@code scripts/floe streams} over it: what it
 * stores in the table, what it refuses, who may change it.
 */
class StreamApiTest {
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
    EventsTable.ensure(service.catalog(), TableSettings.defaults());
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
        HttpRequest.newBuilder(URI.create(uri + "/floe/v1/streams" + path))
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
  void anAdminSetsAPolicyInTheTableAndAReaderListsIt() throws Exception {
    HttpResponse<String> r = send("PUT", "/orders-*", "t-admin", "{\"on_error\":\"dead_letter\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(new JsonObject(r.body()).getString("outcome")).isEqualTo("updated");
    assertThat(table().properties())
        .containsEntry(FloeTableKeys.streamOnError("orders-*"), "dead_letter");
    assertThat(StreamPolicies.read(table()).of("orders-eu")).isEqualTo(OnError.DEAD_LETTER);
    r = send("PUT", "/orders-*", "t-admin", "{\"on_error\":\"dead_letter\"}");
    assertThat(new JsonObject(r.body()).getString("outcome")).isEqualTo("unchanged");

    r = send("GET", "", "t-read", null);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject listed = new JsonObject(r.body());
    assertThat(listed.getJsonArray("streams").getJsonObject(0).getMap())
        .containsEntry("pattern", "orders-*")
        .containsEntry("on_error", "dead_letter");
    assertThat(listed.getString("default")).isEqualTo("reject");

    assertThat(send("DELETE", "/orders-*", "t-admin", null).statusCode()).isEqualTo(200);
    assertThat(StreamPolicies.read(table()).policies()).isEmpty();
    assertThat(send("DELETE", "/orders-*", "t-admin", null).statusCode()).isEqualTo(404);
  }

  @Test
  void badRequestsAndReadersAreRefusedAndChangeNothing() throws Exception {
    Map<String, String> before = table().properties();
    HttpResponse<String> r = send("PUT", "/Orders", "t-admin", "{\"on_error\":\"dead_letter\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getString("detail")).contains("stream pattern 'Orders'");
    r = send("PUT", "/orders", "t-admin", "{\"on_error\":\"skip\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getString("detail")).contains("is not reject");
    r = send("PUT", "/orders", "t-admin", "{\"on_error\":\"reject\",\"why\":1}");
    assertThat(new JsonObject(r.body()).getString("detail")).contains("unknown field 'why'");
    r = send("PUT", "/orders", "t-admin", "not json");
    assertThat(r.statusCode()).isEqualTo(400);
    r = send("PUT", "/orders", "t-read", "{\"on_error\":\"dead_letter\"}");
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(send("GET", "", null, null).statusCode()).isEqualTo(401);
    table().refresh();
    assertThat(table().properties()).isEqualTo(before);
  }

  @Test
  void theCliSetsAndListsPolicies() throws Exception {
    String[] common = {"--catalog", uri, "--token", "t-admin"};
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    FloeCli cli =
        new FloeCli(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(cli.run(concat(common, "streams", "set", "clicks", "--on-error", "dead-letter")))
        .as(err.toString(StandardCharsets.UTF_8))
        .isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("streams clicks on error dead_letter");
    assertThat(cli.run(concat(common, "streams", "list"))).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .containsPattern("clicks\\s+dead_letter")
        .containsPattern("\\(others\\)\\s+reject");
    assertThat(cli.run(concat(common, "streams", "set", "clicks"))).isEqualTo(2);
    assertThat(cli.run(concat(common, "streams", "set", "clicks", "--on-error", "drop")))
        .isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("400");
    assertThat(StreamPolicies.read(table()).of("clicks")).isEqualTo(OnError.DEAD_LETTER);
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = new String[a.length + b.length];
    System.arraycopy(a, 0, all, 0, a.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }
}
