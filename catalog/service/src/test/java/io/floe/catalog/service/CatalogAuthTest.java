package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.auth.TokenStore;
import io.floe.common.config.Settings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * The catalog service protects the table: query engines read, nodes create and append, and only an
 * admin may change the schema or the nodes' floe.* state, drop, rename, or (when allowed) purge;
 * every change is an audit line naming who did it.
 */
class CatalogAuthTest {
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  private static Catalog client(String uri, String token) {
    return CatalogConnector.open(
        "c-" + token,
        CatalogConnector.properties(
            Settings.of(Map.of("catalog.uri", uri, "catalog.token", token))));
  }

  private HttpResponse<String> send(String method, String url, String token) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url)).method(method, HttpRequest.BodyPublishers.noBody());
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void eachScopeDoesWhatItMayAndNothingElse() throws Exception {
    Path tokens =
        Files.write(
            tmp.resolve("tokens"),
            List.of(
                TokenStore.line("spark", "catalog:read", "t-read"),
                TokenStore.line("nodes", "catalog:commit", "t-commit"),
                TokenStore.line("oncall", "admin", "t-admin")));
    Logger audit = (Logger) LoggerFactory.getLogger("floe.audit");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    audit.addAppender(lines);
    try (CatalogService service =
        LocalCatalog.start(
            tmp.resolve("catalog.db"),
            Map.of(
                "warehouse",
                tmp.resolve("wh").toUri().toString(),
                "io-impl",
                "org.apache.iceberg.hadoop.HadoopFileIO"),
            Map.of("FLOE_AUTH_TOKENS_FILE", tokens.toString()))) {
      String uri = "http://127.0.0.1:" + service.port();
      String tableUrl = uri + "/v1/namespaces/floe/tables/events";

      // nodes create the namespace and the table, claim and append
      Table asNode = EventsTable.ensure(client(uri, "t-commit"), TableSettings.defaults());
      CommitProtocol protocol = new CommitProtocol(asNode, 0, "test");
      PartitionClaim claim = protocol.claim();
      DataFile file =
          DataFiles.builder(asNode.spec())
              .withPath(tmp.resolve("f.parquet").toString())
              .withFormat(FileFormat.PARQUET)
              .withPartitionPath("event_time_hour=498730")
              .withFileSizeInBytes(3)
              .withRecordCount(1)
              .build();
      protocol.commit(claim, 0, 1, List.of(file), Map.of());
      // ... but may not change the schema or rewrite the recovery state without appending
      assertThatThrownBy(
              () -> asNode.updateSchema().addColumn("extra", Types.StringType.get()).commit())
          .isInstanceOf(ForbiddenException.class)
          .hasMessageContaining("needs admin");
      assertThatThrownBy(
              () ->
                  asNode
                      .updateProperties()
                      .set(FloeTableKeys.partitionCommittedSequence(0), "0")
                      .commit())
          .isInstanceOf(ForbiddenException.class);
      asNode.updateProperties().set("comment", "events from Floe").commit();
      assertThat(send("DELETE", tableUrl, "t-commit").statusCode()).isEqualTo(403);

      // query engines read, and nothing more
      Table asReader =
          client(uri, "t-read").loadTable(EventsTable.identifier(TableSettings.defaults()));
      assertThat(asReader.properties())
          .containsEntry(FloeTableKeys.partitionCommittedSequence(0), "1");
      assertThatThrownBy(() -> new CommitProtocol(asReader, 1, "reader").claim())
          .isInstanceOf(ForbiddenException.class);
      assertThat(send("POST", uri + "/v1/namespaces", "t-read").statusCode()).isEqualTo(403);

      // unknown or missing tokens never get anywhere
      for (String token : new String[] {null, "t-wrong", "t-read%00", "t-read t-read"}) {
        HttpResponse<String> r = send("GET", tableUrl, token);
        assertThat(r.statusCode()).as(String.valueOf(token)).isEqualTo(401);
        assertThat(r.body()).contains("NotAuthorizedException");
      }
      assertThat(send("GET", uri + "/v1/config", null).statusCode()).isEqualTo(401);
      HttpResponse<String> traversal =
          send("GET", uri + "/v1/namespaces/..%2F..%2Fetc/tables/passwd", "t-read");
      assertThat(traversal.statusCode()).isEqualTo(404);

      // admin: the recovery state, and a drop; a purge stays off unless service.allow-purge
      Table asAdmin =
          client(uri, "t-admin").loadTable(EventsTable.identifier(TableSettings.defaults()));
      asAdmin.updateProperties().set("floe.note", "checked").commit();
      HttpResponse<String> purge = send("DELETE", tableUrl + "?purgeRequested=true", "t-admin");
      assertThat(purge.statusCode()).isEqualTo(403);
      assertThat(purge.body()).contains("service.allow-purge");
      assertThat(send("DELETE", tableUrl, "t-admin").statusCode()).isEqualTo(204);
    } finally {
      audit.detachAppender(lines);
    }
    List<String> said = lines.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(said)
        .anyMatch(
            l ->
                l.matches(
                    "audit principal=nodes action=create-table target=floe\\.events snapshot=-"));
    assertThat(said)
        .anyMatch(
            l ->
                l.matches(
                    "audit principal=nodes action=commit target=floe\\.events snapshot=\\d+"));
    assertThat(said)
        .anyMatch(
            l ->
                l.matches(
                    "audit principal=oncall action=drop-table target=floe\\.events snapshot=-"));
    assertThat(said).noneMatch(l -> l.contains("t-commit") || l.contains("t-admin"));
  }
}
