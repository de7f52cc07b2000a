package io.floe.catalog.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.floe.catalog.local.LocalS3;
import io.floe.catalog.table.EventsTable;
import io.floe.catalog.table.TableSettings;
import io.floe.catalog.testing.LocalCatalog;
import io.floe.common.auth.TokenStore;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which storage credentials a caller that asks for them gets with a table: nodes and admins the
 * service's own (they write); query engines (catalog:read) none, or read-only session credentials
 * for the table's location when the service may assume a role for them, or (a private setup that
 * says so) the service's own.
 */
class VendedCredentialsTest {
  @TempDir Path tmp;
  private final HttpClient http = HttpClient.newHttpClient();

  private CatalogService start(LocalS3 s3, Map<String, String> extra) throws Exception {
    Path tokens =
        Files.write(
            tmp.resolve("tokens"),
            List.of(
                TokenStore.line("spark", "catalog:read", "t-read"),
                TokenStore.line("nodes", "catalog:commit", "t-commit")));
    Map<String, String> env = new HashMap<>(extra);
    env.put("FLOE_AUTH_TOKENS_FILE", tokens.toString());
    return LocalCatalog.start(tmp.resolve("catalog.db"), s3.fileIoProperties(), env);
  }

  /** The config a table load gives {@code token} when it asks for vended credentials. */
  private JsonObject vended(CatalogService service, String token) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(
                    URI.create(
                        "http://127.0.0.1:" + service.port() + "/v1/namespaces/floe/tables/events"))
                .header("Authorization", "Bearer " + token)
                .header("X-Iceberg-Access-Delegation", "vended-credentials")
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return new JsonObject(r.body()).getJsonObject("config");
  }

  @Test
  void readersGetNoneOfTheServicesKeys() throws Exception {
    try (LocalS3 s3 = LocalS3.start(tmp.resolve("s3"), 0, "floe");
        CatalogService service = start(s3, Map.of())) {
      EventsTable.ensure(service.catalog(), TableSettings.defaults());
      JsonObject reader = vended(service, "t-read");
      assertThat(reader.getString("s3.endpoint"))
          .isEqualTo(s3.fileIoProperties().get("s3.endpoint"));
      assertThat(reader.fieldNames())
          .doesNotContain("s3.access-key-id", "s3.secret-access-key", "s3.session-token");
      assertThat(reader.encode()).doesNotContain(LocalS3.SECRET_KEY);
      // nodes write the table's files: they get the service's keys
      assertThat(vended(service, "t-commit").getString("s3.secret-access-key"))
          .isEqualTo(LocalS3.SECRET_KEY);
    }
  }

  @Test
  void aPrivateSetupMayHandReadersTheServicesKeys() throws Exception {
    try (LocalS3 s3 = LocalS3.start(tmp.resolve("s3"), 0, "floe");
        CatalogService service =
            start(s3, Map.of("FLOE_SERVICE_VEND_TO_READERS", "service-keys"))) {
      EventsTable.ensure(service.catalog(), TableSettings.defaults());
      assertThat(vended(service, "t-read").getString("s3.secret-access-key"))
          .isEqualTo(LocalS3.SECRET_KEY);
    }
  }

  @Test
  void readersGetReadOnlySessionCredentialsForTheTable() throws Exception {
    List<Map<String, String>> calls = new CopyOnWriteArrayList<>();
    HttpServer sts = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    sts.createContext(
        "/",
        exchange -> {
          String form =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          Map<String, String> params = new HashMap<>();
          for (String pair : form.split("&")) {
            String[] kv = pair.split("=", 2);
            params.put(
                URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                kv.length < 2 ? "" : URLDecoder.decode(kv[1], StandardCharsets.UTF_8));
          }
          calls.add(params);
          byte[] body =
              ("<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                      + "<AssumeRoleResult><Credentials>"
                      + "<AccessKeyId>ASIAREADONLY</AccessKeyId>"
                      + "<SecretAccessKey>read-only-secret</SecretAccessKey>"
                      + "<SessionToken>read-only-session</SessionToken>"
                      + "<Expiration>2099-01-01T00:00:00Z</Expiration>"
                      + "</Credentials><AssumedRoleUser><AssumedRoleId>AROA:floe-spark</AssumedRoleId>"
                      + "<Arn>arn:aws:sts::123456789012:assumed-role/floe-read/floe-spark</Arn>"
                      + "</AssumedRoleUser></AssumeRoleResult>"
                      + "<ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata>"
                      + "</AssumeRoleResponse>")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.getResponseHeaders().add("Content-Type", "text/xml");
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    sts.start();
    try (LocalS3 s3 = LocalS3.start(tmp.resolve("s3"), 0, "floe");
        CatalogService service =
            start(
                s3,
                Map.of(
                    "FLOE_SERVICE_VEND_TO_READERS", "session",
                    "FLOE_SERVICE_VEND_ROLE_ARN", "arn:aws:iam::123456789012:role/floe-read",
                    "FLOE_SERVICE_VEND_STS_ENDPOINT",
                        "http://127.0.0.1:" + sts.getAddress().getPort()))) {
      String location = EventsTable.ensure(service.catalog(), TableSettings.defaults()).location();
      JsonObject reader = vended(service, "t-read");
      assertThat(reader.getString("s3.access-key-id")).isEqualTo("ASIAREADONLY");
      assertThat(reader.getString("s3.secret-access-key")).isEqualTo("read-only-secret");
      assertThat(reader.getString("s3.session-token")).isEqualTo("read-only-session");
      assertThat(reader.getString("s3.session-token-expires-at-ms"))
          .isEqualTo(Long.toString(Instant.parse("2099-01-01T00:00:00Z").toEpochMilli()));
      assertThat(reader.encode()).doesNotContain(LocalS3.SECRET_KEY);
      vended(service, "t-read");
      assertThat(calls).as("one session, reused").hasSize(1);
      Map<String, String> call = calls.get(0);
      assertThat(call)
          .containsEntry("Action", "AssumeRole")
          .containsEntry("RoleArn", "arn:aws:iam::123456789012:role/floe-read")
          .containsEntry("RoleSessionName", "floe-spark");
      JsonObject policy = new JsonObject(call.get("Policy"));
      assertThat(policy.encode())
          .contains("s3:GetObject")
          .contains("arn:aws:s3:::" + location.substring("s3://".length()) + "/*")
          .doesNotContain("PutObject")
          .doesNotContain("DeleteObject");
    } finally {
      sts.stop(0);
    }
  }
}
