package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * floe_catalog_requests_total counts the table loads and commits the service serves, a node's (a
 * catalog:commit token) apart from everyone else's, and names no token.
 */
class CatalogRequestsTest {
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  private static Catalog client(String uri, String token) {
    return CatalogConnector.open(
        "c-" + token,
        CatalogConnector.properties(
            Settings.of(Map.of("catalog.uri", uri, "catalog.token", token))));
  }

  private String metrics(String uri) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(uri + "/metrics"))
                .header("Authorization", "Bearer t-read")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  private static double count(String metrics, String operation, String caller) {
    Matcher m =
        Pattern.compile(
                "(?m)^floe_catalog_requests_total\\{caller=\""
                    + caller
                    + "\",operation=\""
                    + operation
                    + "\"} ([0-9.E]+)$")
            .matcher(metrics);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  @Test
  void aNodesLoadAndCommitRaiseItsCountersAndAReadersLoadCountsAsOther() throws Exception {
    Path tokens =
        Files.write(
            tmp.resolve("tokens"),
            List.of(
                TokenStore.line("nodes", "catalog:commit", "t-commit"),
                TokenStore.line("query", "catalog:read", "t-query"),
                TokenStore.line("prometheus", "read", "t-read")));
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
      Table asNode = EventsTable.ensure(client(uri, "t-commit"), TableSettings.defaults());
      CommitProtocol protocol = new CommitProtocol(asNode, 0, "node-0");
      PartitionClaim claim = protocol.claim();
      String before = metrics(uri);

      asNode.refresh();
      DataFile file =
          DataFiles.builder(asNode.spec())
              .withPath(tmp.resolve("a.parquet").toString())
              .withFormat(FileFormat.PARQUET)
              .withPartitionPath("event_time_hour=498730")
              .withFileSizeInBytes(3)
              .withRecordCount(1)
              .build();
      protocol.commit(claim, 0, 5, List.of(file), Map.of());
      String afterNode = metrics(uri);
      assertThat(count(afterNode, "load_table", "node"))
          .isGreaterThan(count(before, "load_table", "node"));
      assertThat(count(afterNode, "commit_table", "node"))
          .isGreaterThan(count(before, "commit_table", "node"));

      client(uri, "t-query").loadTable(EventsTable.identifier(TableSettings.defaults()));
      String afterQuery = metrics(uri);
      assertThat(count(afterQuery, "load_table", "other"))
          .isEqualTo(count(afterNode, "load_table", "other") + 1);
      assertThat(count(afterQuery, "load_table", "node"))
          .isEqualTo(count(afterNode, "load_table", "node"));
      assertThat(afterQuery).doesNotContain("t-commit").doesNotContain("\"nodes\"");
    }
  }
}
