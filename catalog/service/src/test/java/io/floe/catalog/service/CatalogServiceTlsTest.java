package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.floe.catalog.connect.CatalogConnector;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.config.Settings;
import io.floe.common.testing.Certificates;
import io.floe.common.testing.Certificates.Pem;
import java.io.Closeable;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.iceberg.catalog.Catalog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The catalog service with service.tls.* answers the REST API over TLS only, and a node's REST
 * client reaches it when catalog.tls-trust-file names its certificate.
 */
class CatalogServiceTlsTest {
  @TempDir Path tmp;

  @Test
  void servesTheRestApiOverTlsOnly() throws Exception {
    Pem pem = Certificates.selfSigned(tmp, "catalog");
    try (CatalogService service =
        LocalCatalog.start(
            tmp.resolve("catalog.db"),
            Map.of(
                "warehouse",
                tmp.resolve("wh").toUri().toString(),
                "io-impl",
                "org.apache.iceberg.hadoop.HadoopFileIO"),
            Map.of(
                "FLOE_SERVICE_TLS_CERT_FILE",
                pem.cert().toString(),
                "FLOE_SERVICE_TLS_KEY_FILE",
                pem.key().toString()))) {
      HttpClient client = HttpClient.newBuilder().sslContext(pem.trustingContext()).build();
      HttpResponse<String> config =
          client.send(
              HttpRequest.newBuilder(
                      URI.create("https://127.0.0.1:" + service.port() + "/v1/config"))
                  .timeout(Duration.ofSeconds(5))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(config.statusCode()).isEqualTo(200);
      assertThat(config.body()).contains("defaults");
      assertThatThrownBy(
              () ->
                  HttpClient.newHttpClient()
                      .send(
                          HttpRequest.newBuilder(
                                  URI.create("http://127.0.0.1:" + service.port() + "/v1/config"))
                              .timeout(Duration.ofSeconds(5))
                              .build(),
                          HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(IOException.class);

      // a node's REST client, told to trust the service's certificate (catalog.tls-trust-file)
      String uri = "https://127.0.0.1:" + service.port();
      Map<String, String> trusted =
          CatalogConnector.properties(
              Settings.of(
                  Map.of("catalog.uri", uri, "catalog.tls-trust-file", pem.cert().toString())));
      Catalog node = CatalogConnector.open("floe", trusted);
      try {
        assertThat(EventsTable.ensure(node, TableSettings.defaults()).schema().findField("payload"))
            .isNotNull();
      } finally {
        ((Closeable) node).close();
      }
      // ... and one that is not told refuses the self-signed certificate
      assertThatThrownBy(
              () -> {
                Catalog untrusting =
                    CatalogConnector.open(
                        "floe",
                        CatalogConnector.properties(Settings.of(Map.of("catalog.uri", uri))));
                EventsTable.ensure(untrusting, TableSettings.defaults());
              })
          .hasStackTraceContaining("PKIX");
    }
  }
}
