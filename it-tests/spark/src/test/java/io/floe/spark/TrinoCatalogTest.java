package io.floe.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trino as users run it: its Iceberg connector against Floe's REST catalog service with a {@code
 * catalog:read} token (the properties docs/operations.md gives), reading the files from the local
 * S3 server with its native S3 file system. Trino runs as its own process on a Java 24+ runtime;
 * where the machine has none the test is skipped, saying so.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrinoCatalogTest {
  private static final Pattern DEAD_LETTER_SEQUENCE =
      Pattern.compile("\"dead_letters_first_sequence\"\\s*:\\s*(\\d+)");

  @TempDir static Path dir;
  private FloeServices floe;
  private TrinoServer trino;
  private String skipped;

  @BeforeAll
  void start() throws Exception {
    StringBuilder whyNot = new StringBuilder();
    Optional<Path> java = TrinoInstall.java(whyNot);
    if (java.isEmpty()) {
      skipped = "TRINO TESTS SKIPPED: " + whyNot;
      // on the build's console, not in the test's output file that surefire fills from System.err
      // (not closed: that would close the process's standard error)
      new PrintStream(new FileOutputStream(FileDescriptor.err), true).println(skipped);
      return;
    }
    Path home =
        TrinoInstall.home(
            Path.of(System.getProperty("floe.trino.tarball", "")),
            Path.of(System.getProperty("floe.trino.home", "target/trino")));
    // Trino starts while Floe's services do (each takes half a minute on 2 cores)
    FloeServices.Ports ports = FloeServices.Ports.free();
    trino =
        new TrinoServer(
            java.get(),
            home,
            home.resolveSibling("trino-run"),
            Map.of(
                "floe", catalog(ports, Optional.of(FloeServices.TRINO_TOKEN)),
                "wrong", catalog(ports, Optional.of("not-" + FloeServices.TRINO_TOKEN)),
                "anon", catalog(ports, Optional.empty())));
    floe = new FloeServices(dir, ports, Map.of(), Map.of());
    trino.awaitQueries(Duration.ofMinutes(3));
  }

  /** The catalog file docs/operations.md gives, with this run's addresses and token. */
  private static Map<String, String> catalog(FloeServices.Ports ports, Optional<String> token) {
    Map<String, String> c =
        new HashMap<>(
            Map.of(
                "connector.name", "iceberg",
                "iceberg.catalog.type", "rest",
                "iceberg.rest-catalog.uri", ports.catalogUri(),
                "fs.native-s3.enabled", "true",
                "s3.endpoint", ports.s3Endpoint(),
                "s3.path-style-access", "true",
                "s3.region", "us-east-1",
                "s3.aws-access-key", FloeServices.S3_ACCESS_KEY,
                "s3.aws-secret-key", FloeServices.S3_SECRET_KEY));
    token.ifPresent(
        t -> {
          c.put("iceberg.rest-catalog.security", "OAUTH2");
          c.put("iceberg.rest-catalog.oauth2.token", t);
        });
    return c;
  }

  /** Each test reports itself skipped, with the reason, where no Java runs Trino. */
  @BeforeEach
  void needsTrino() {
    Assumptions.assumeTrue(skipped == null, skipped);
  }

  @AfterAll
  void stop() throws Exception {
    if (trino != null) {
      trino.close();
    }
    if (floe != null) {
      floe.close();
    }
  }

  @Test
  void trinoReadsTheEventsTable() throws Exception {
    List<String> sent =
        IntStream.range(0, 300)
            .mapToObj(n -> "{\"n\":" + n + ",\"user\":{\"id\":" + (n % 7) + "}}")
            .toList();
    floe.awaitCommitted(floe.ingest("trino", String.join("\n", sent) + "\n"));

    List<List<JsonNode>> counts =
        trino.query(
            "SELECT count(*), count(DISTINCT sequence),"
                + " sum(CAST(json_extract_scalar(payload, '$.n') AS BIGINT))"
                + " FROM floe.floe.events WHERE stream = 'trino'");
    assertThat(counts.get(0).get(0).asLong()).as("rows").isEqualTo(300);
    assertThat(counts.get(0).get(1).asLong()).as("distinct sequences").isEqualTo(300);
    assertThat(counts.get(0).get(2).asLong()).isEqualTo(299L * 300 / 2);
    assertThat(
            trino
                .query(
                    "SELECT payload FROM floe.floe.events WHERE stream = 'trino' ORDER BY sequence")
                .stream()
                .map(r -> r.get(0).asText())
                .toList())
        .as("each event as sent, in the order sent")
        .isEqualTo(sent);
  }

  @Test
  void trinoReadsTheDeadLetterTable() throws Exception {
    assertThat(floe.setStreamPolicy("trino-dlq", "dead_letter")).isEqualTo(200);
    String bad = "{\"n\":2,\"city\":\"Zürich\"";
    HttpResponse<String> r =
        floe.sendOncePolicyFollowed("trino-dlq", "{\"n\":1}\n" + bad + "\n{\"n\":3}\n");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"accepted\":2", "\"dead_lettered\":1");
    Matcher sequence = DEAD_LETTER_SEQUENCE.matcher(r.body());
    assertThat(sequence.find()).as(r.body()).isTrue();
    floe.flush();

    List<List<JsonNode>> dead =
        trino.query(
            "SELECT error_code, position, raw, raw_truncated, raw_length, replay_count,"
                + " partition_id, sequence, from_utf8(raw)"
                + " FROM floe.floe.events_dead_letter WHERE stream = 'trino-dlq'");
    assertThat(dead).hasSize(1);
    List<JsonNode> row = dead.get(0);
    assertThat(row.get(0).asText()).isEqualTo("malformed_json");
    assertThat(row.get(1).asInt()).as("line").isEqualTo(2);
    assertThat(Base64.getDecoder().decode(row.get(2).asText()))
        .as("raw bytes, as sent")
        .isEqualTo(bad.getBytes(StandardCharsets.UTF_8));
    assertThat(row.get(3).asBoolean()).isFalse();
    assertThat(row.get(4).asLong()).isEqualTo(bad.getBytes(StandardCharsets.UTF_8).length);
    assertThat(row.get(5).asInt()).isZero();
    assertThat(row.get(6).asInt()).isZero();
    assertThat(row.get(7).asLong()).isEqualTo(Long.parseLong(sequence.group(1)));
    assertThat(row.get(8).asText()).as("as text (docs/operations.md)").isEqualTo(bad);
    assertThat(
            trino
                .query(
                    "SELECT json_extract_scalar(payload, '$.n') FROM floe.floe.events"
                        + " WHERE stream = 'trino-dlq' ORDER BY sequence")
                .stream()
                .map(x -> x.get(0).asText())
                .collect(Collectors.toList()))
        .as("the good lines of the same request")
        .containsExactly("1", "3");
  }

  @Test
  void theCatalogRefusesAWrongOrAbsentToken() {
    // Iceberg's REST client words the catalog's 401 as "Not authorized: <the catalog's message>"
    assertThatThrownBy(() -> trino.query("SELECT count(*) FROM wrong.floe.events"))
        .isInstanceOf(TrinoServer.QueryFailed.class)
        .hasMessageContaining("Not authorized: the bearer token is not valid");
    assertThatThrownBy(() -> trino.query("SELECT count(*) FROM anon.floe.events"))
        .isInstanceOf(TrinoServer.QueryFailed.class)
        .hasMessageContaining("Not authorized");
  }

  @Test
  void aCatalogReadTokenChangesNothing() throws Exception {
    assertThatThrownBy(() -> trino.query("COMMENT ON TABLE floe.floe.events IS 'by Trino'"))
        .isInstanceOf(TrinoServer.QueryFailed.class)
        .hasMessageContaining("may not");
    assertThat(
            trino.query(
                "SELECT comment FROM system.metadata.table_comments"
                    + " WHERE catalog_name = 'floe' AND schema_name = 'floe' AND table_name = 'events'"))
        .extracting(r -> r.get(0).asText(null))
        .containsExactly((String) null);
  }
}
