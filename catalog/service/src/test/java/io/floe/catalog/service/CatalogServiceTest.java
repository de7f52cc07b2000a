package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.catalog.commit.CommitProtocol;
import io.floe.catalog.commit.PartitionClaim;
import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.FloeTableKeys;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.config.ConfigException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CatalogServiceTest {
  @TempDir Path tmp;

  @Test
  void servesTheRestApiOverSqliteAndHandsOutStorageSettings() throws Exception {
    try (LocalS3 s3 = LocalS3.start(tmp.resolve("s3"), 0, "floe")) {
      try (CatalogService service =
          LocalCatalog.start(
              tmp.resolve("catalog.db"),
              s3.fileIoProperties(),
              Map.of("FLOE_SERVICE_AUTH_TOKEN", "t0ken"))) {
        String uri = "http://127.0.0.1:" + service.port();
        // a client that knows only the URI and the token, and asks for vended credentials (as nodes
        // do), gets the storage settings with each table; /v1/config never carries the secret
        Catalog client =
            CatalogConnector.open(
                "client",
                Map.of(
                    "type",
                    "rest",
                    "uri",
                    uri,
                    "token",
                    "t0ken",
                    CatalogConnector.VENDED_CREDENTIALS_HEADER,
                    "vended-credentials"));
        Table created = EventsTable.ensure(client, TableSettings.defaults());
        Table loaded = EventsTable.ensure(client, TableSettings.defaults());
        assertThat(loaded.uuid()).isEqualTo(created.uuid());
        assertThat(loaded.io().getClass().getSimpleName()).isEqualTo("S3FileIO");

        OutputFile out =
            loaded.io().newOutputFile(loaded.locationProvider().newDataLocation("probe.bin"));
        try (PositionOutputStream stream = out.create()) {
          stream.write(new byte[] {1, 2, 3});
        }
        assertThat(loaded.io().newInputFile(out.location()).getLength()).isEqualTo(3);

        CommitProtocol protocol = new CommitProtocol(loaded, 0, "test");
        PartitionClaim claim = protocol.claim();
        DataFile file =
            DataFiles.builder(loaded.spec())
                .withPath(out.location())
                .withFormat(FileFormat.PARQUET)
                .withPartitionPath("event_time_hour=498730")
                .withFileSizeInBytes(3)
                .withRecordCount(1)
                .build();
        protocol.commit(claim, 0, 1, List.of(file), Map.of());

        Table viaJdbc =
            service.catalog().loadTable(EventsTable.identifier(TableSettings.defaults()));
        assertThat(viaJdbc.properties())
            .containsEntry(FloeTableKeys.partitionCommittedSequence(0), "1");
        assertThat(viaJdbc.currentSnapshot().summary()).containsEntry("added-data-files", "1");

        HttpResponse<String> config =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create(uri + "/v1/config"))
                        .header("Authorization", "Bearer t0ken")
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(config.body())
            .contains("s3.endpoint")
            .doesNotContain("secret-access-key")
            .doesNotContain(s3.fileIoProperties().get("s3.secret-access-key"));
        String tablePath = uri + "/v1/namespaces/floe/tables/events";
        HttpResponse<String> plainLoad =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create(tablePath))
                        .header("Authorization", "Bearer t0ken")
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(plainLoad.statusCode()).isEqualTo(200);
        assertThat(plainLoad.body()).doesNotContain("secret-access-key");
        HttpResponse<String> vended =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create(tablePath))
                        .header("Authorization", "Bearer t0ken")
                        .header("X-Iceberg-Access-Delegation", "vended-credentials")
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(vended.body()).contains("secret-access-key");

        HttpResponse<String> noToken =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create(uri + "/v1/namespaces")).build(),
                    HttpResponse.BodyHandlers.ofString());
        assertThat(noToken.statusCode()).isEqualTo(401);
        assertThatThrownBy(
                () ->
                    CatalogConnector.open(
                        "bad", Map.of("type", "rest", "uri", uri, "token", "wrong")))
            .isInstanceOf(ConfigException.class)
            .hasMessageContaining("NotAuthorizedException");
      }
    }
  }
}
